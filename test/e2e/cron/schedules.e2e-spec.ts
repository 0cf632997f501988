import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  DuplicateScheduleError,
  InvalidScheduleError,
  Job,
  JobsModule,
  JobsReader,
  JobsSchedules,
  Recurring,
  ScheduleNotFoundError,
  type JobContext,
} from 'nest-jobs';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventLog } from '../../support/event-log.js';
import { CapturingLogger } from '../../support/jobs-app.js';
import { Gate } from '../../support/gate.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { waitFor } from '../../support/wait-for.js';

const TICK = {
  schedules: { pollIntervalMs: 100 },
  worker: { pollIntervalMs: 100 },
};
const LONG = { timeoutMs: 30_000 };

/** Runs of the scheduled handlers, by job id. */
class Runs {
  readonly ran: string[] = [];
  gate: Gate | null = null;
}

@Injectable()
class Reports {
  constructor(private readonly runs: Runs) {}

  @Recurring('* * * * * *', {
    name: 'every-second',
    overlap: 'allow',
    payload: { kind: 'beat' },
  })
  @Job({ name: 'reports.beat' })
  async beat(_payload: { kind: string }, ctx: JobContext) {
    this.runs.ran.push(ctx.id);
    if (this.runs.gate) await this.runs.gate.opened;
  }

  @Job({ name: 'reports.daily' })
  daily(_payload: unknown, ctx: JobContext) {
    this.runs.ran.push(ctx.id);
  }
}

@Injectable()
class Picky {
  @Job({
    name: 'picky.job',
    validate: async (payload) => {
      if ((payload as { bad?: boolean }).bad)
        throw new Error('no bad payloads');
      // A validator that never settles: the tick gives up on it and goes on.
      if ((payload as { hang?: boolean }).hang) await new Promise(() => {});
    },
  })
  run() {}
}

describe('recurring jobs: declared and run-time schedules', () => {
  const suite = useJobsSuite('cron_schedules', { clearJobsAfterEach: true });
  const { db } = suite;

  const app = (providers: unknown[] = [Reports], jobs: object = TICK) => {
    const runs = new Runs();
    return suite
      .app({
        providers: [
          ...(providers as never[]),
          EventLog,
          { provide: Runs, useValue: runs },
        ],
        jobs,
      })
      .then((made) => ({ app: made, runs }));
  };

  /** The error of an app that fails at start-up (its DataSource closed again). */
  const startupError = async (providers: unknown[]): Promise<Error> => {
    const module = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url: db.url,
          applicationName: 'cron-startup',
        }),
        JobsModule.forRoot({ runMigrations: true, schedules: false }),
      ],
      providers: providers as never[],
    })
      .setLogger(new CapturingLogger())
      .compile();
    try {
      await module.init();
    } catch (error) {
      await module.close();
      return error as Error;
    }
    await module.close();
    throw new Error('expected the application to fail at start-up');
  };

  const startupMessage = async (providers: unknown[]): Promise<string> => {
    const error = await startupError(providers);
    expect(error).toBeInstanceOf(InvalidScheduleError);
    return error.message;
  };

  const scheduleJobs = (schedule: string) =>
    db.query<{ id: string; status: string; run_at: Date; unique_key: string }>(
      `SELECT id, status, run_at, unique_key FROM nest_jobs WHERE unique_key LIKE $1 ORDER BY run_at`,
      [`%|k:s:${schedule}%`],
    );

  it('a declared per-second schedule enqueues each occurrence once, at whole seconds, and the reader lists it', async () => {
    const { app: made } = await app();
    await waitFor(
      'three completed occurrences',
      async () => {
        const rows = await scheduleJobs('every-second');
        return rows.filter((r) => r.status === 'completed').length >= 3;
      },
      LONG,
    );
    const rows = await scheduleJobs('every-second');
    const times = rows.map((r) => r.run_at.getTime());
    expect(new Set(times).size).toBe(times.length);
    for (const t of times) expect(t % 1000).toBe(0);
    const events = made.get(EventLog).of('schedule.enqueued');
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events[0]).toMatchObject({
      schedule: 'every-second',
      triggered: false,
    });
    const [view] = (await made.get(JobsReader).schedules()).filter(
      (s) => s.name === 'every-second',
    );
    expect(view).toMatchObject({
      job: 'reports.beat',
      cron: '* * * * * *',
      timeZone: 'UTC',
      declared: true,
      version: 1,
      overlap: 'allow',
      payload: { kind: 'beat' },
    });
    expect(view!.nextRunAt!.getTime()).toBeGreaterThan(
      view!.lastRunAt!.getTime(),
    );
    expect(['pending', 'running', 'completed']).toContain(view!.lastOutcome);
    await made.get(JobsSchedules).remove('every-second');
  });

  it('run time: add, list, trigger, update, pause, resume and remove, with typed errors', async () => {
    const { app: made, runs } = await app([Reports]);
    const schedules = made.get(JobsSchedules);
    await schedules.remove('every-second');
    const added = await schedules.add({
      name: 'daily',
      job: 'reports.daily',
      cron: '0 3 * * *',
      timeZone: 'Europe/Berlin',
      payload: { day: true },
    });
    expect(added).toMatchObject({
      name: 'daily',
      declared: false,
      missed: 'latest',
      overlap: 'skip',
      lastRunAt: null,
      lastOutcome: null,
      pausedAt: null,
    });
    // 03:00 in Berlin is 01:00 or 02:00 UTC.
    expect([1, 2]).toContain(added.nextRunAt!.getUTCHours());
    await expect(
      schedules.add({ name: 'daily', job: 'reports.daily', cron: '* * * * *' }),
    ).rejects.toThrow(DuplicateScheduleError);
    await expect(
      schedules.add({ name: 'x', job: 'no.such.job', cron: '* * * * *' }),
    ).rejects.toThrow(/Invalid schedule "x".*job names "no.such.job"/);
    await expect(
      schedules.add({
        name: 'y',
        job: 'reports.daily',
        cron: '* * * * *',
        timeZone: 'Mars/Olympus',
      }),
    ).rejects.toThrow(InvalidScheduleError);
    await expect(schedules.pause('nope')).rejects.toThrow(
      ScheduleNotFoundError,
    );

    const triggered = await schedules.trigger('daily');
    expect(triggered.duplicate).toBe(false);
    await waitFor(
      'the triggered job to run',
      () => runs.ran.includes(triggered.id),
      LONG,
    );
    await waitFor(
      'its outcome to be listed',
      async () => (await schedules.get('daily')).lastOutcome === 'completed',
      LONG,
    );
    expect((await schedules.get('daily')).lastJobId).toBe(triggered.id);

    const updated = await schedules.update('daily', {
      cron: '0 4 * * *',
      missed: 'skip',
    });
    expect(updated).toMatchObject({
      cron: '0 4 * * *',
      missed: 'skip',
      timeZone: 'Europe/Berlin',
      payload: { day: true },
    });
    await expect(
      schedules.update('daily', { cron: 'nonsense' }),
    ).rejects.toThrow(/Invalid schedule "daily": cron "nonsense"/);

    await schedules.pause('daily');
    expect((await schedules.get('daily')).pausedAt).toBeInstanceOf(Date);
    await schedules.resume('daily');
    expect((await schedules.get('daily')).pausedAt).toBeNull();
    await schedules.remove('daily');
    await expect(schedules.get('daily')).rejects.toThrow(ScheduleNotFoundError);
    expect(
      made
        .get(EventLog)
        .of('schedule.changed')
        .map((e) => e.action),
    ).toEqual(['removed', 'added', 'updated', 'paused', 'resumed', 'removed']);
  });

  it('missed occurrences: skip enqueues none, latest one, all up to the limit (with skipped events)', async () => {
    const { app: made } = await app([Reports]);
    const schedules = made.get(JobsSchedules);
    await schedules.remove('every-second');
    for (const [name, missed] of [
      ['m-skip', 'skip'],
      ['m-latest', 'latest'],
      ['m-all', 'all'],
    ] as const)
      await schedules.add({
        name,
        job: 'reports.daily',
        cron: '* * * * *',
        missed,
        missedLimit: 3,
        graceMs: 0,
        overlap: missed === 'all' ? 'allow' : 'skip',
      });
    // As if every instance had been down for ten minutes.
    await db.query(
      `UPDATE nest_jobs_schedules SET next_run_at = date_trunc('minute', now()) - interval '10 minutes'`,
    );
    const log = made.get(EventLog);
    await waitFor(
      'the three schedules to catch up',
      async () =>
        (
          await db.query(
            `SELECT count(*)::int AS late FROM nest_jobs_schedules WHERE next_run_at < now()`,
          )
        )[0].late === 0,
      LONG,
    );
    const counts = {
      skip: (await scheduleJobs('m-skip')).length,
      latest: (await scheduleJobs('m-latest')).length,
      all: (await scheduleJobs('m-all')).length,
    };
    // A minute boundary may pass during the test: it is on time, not missed.
    expect(counts.skip).toBeLessThanOrEqual(1);
    expect(counts.latest).toBe(1);
    expect(counts.all).toBeGreaterThanOrEqual(3);
    const skipped = (name: string) =>
      log
        .of('schedule.skipped')
        .filter((e) => e.schedule === name && e.reason === 'missed');
    expect(skipped('m-skip').length).toBeGreaterThanOrEqual(10);
    expect(skipped('m-latest').length).toBeGreaterThanOrEqual(9);
    expect(skipped('m-all').length).toBeGreaterThanOrEqual(7);
    const allRuns = (await scheduleJobs('m-all')).map((r) =>
      r.run_at.getTime(),
    );
    expect(new Set(allRuns).size).toBe(allRuns.length);
    for (const name of ['m-skip', 'm-latest', 'm-all'])
      await schedules.remove(name);
  });

  it('overlap skip: no occurrence is enqueued while the previous job runs; the skipped ones name it', async () => {
    const { app: made, runs } = await app([Reports]);
    const schedules = made.get(JobsSchedules);
    await schedules.remove('every-second');
    runs.gate = new Gate();
    await schedules.add({
      name: 'slow',
      job: 'reports.beat',
      cron: '* * * * * *',
      payload: { kind: 'slow' },
    });
    const log = made.get(EventLog);
    await waitFor(
      'two occurrences skipped for overlap',
      () =>
        log
          .of('schedule.skipped')
          .filter((e) => e.schedule === 'slow' && e.reason === 'overlap')
          .length >= 2,
      LONG,
    );
    const rows = await scheduleJobs('slow');
    expect(rows).toHaveLength(1);
    const overlaps = log
      .of('schedule.skipped')
      .filter((e) => e.reason === 'overlap');
    for (const skip of overlaps) expect(skip.heldBy).toBe(rows[0]!.id);
    const trigger = await schedules.trigger('slow');
    expect(trigger).toEqual({ id: rows[0]!.id, duplicate: true });
    await schedules.pause('slow');
    runs.gate.open();
    await waitFor(
      'the running job to finish',
      async () => (await scheduleJobs('slow'))[0]!.status === 'completed',
      LONG,
    );
    await schedules.remove('slow');
  });

  it('start-up fails naming the schedule: bad expression, unknown zone, duplicate name, @Recurring without @Job', async () => {
    @Injectable()
    class BadCron {
      @Recurring('61 * * * *', { name: 'bad-cron' })
      @Job({ name: 'bad.cron' })
      run() {}
    }
    expect(await startupMessage([BadCron])).toMatch(
      /Invalid schedule "bad-cron" \(@Recurring on BadCron#run\): cron "61 \* \* \* \*"/,
    );

    @Injectable()
    class BadZone {
      @Recurring('* * * * *', { timeZone: 'Europe/Atlantis' })
      @Job({ name: 'bad.zone' })
      run() {}
    }
    expect(await startupMessage([BadZone])).toMatch(
      /Invalid schedule "bad.zone" .*timeZone .*unknown time zone "Europe\/Atlantis"/,
    );

    @Injectable()
    class Twice {
      @Recurring('* * * * *', { name: 'same' })
      @Job({ name: 'twice.a' })
      a() {}
      @Recurring('0 * * * *', { name: 'same' })
      @Job({ name: 'twice.b' })
      b() {}
    }
    const duplicate = await startupError([Twice]);
    expect(duplicate).toBeInstanceOf(DuplicateScheduleError);
    expect(duplicate.message).toMatch(
      /"same": declared by Twice#a and Twice#b/,
    );

    @Injectable()
    class NoJob {
      @Recurring('* * * * *', { name: 'orphan' })
      run() {}
    }
    expect(await startupMessage([NoJob])).toMatch(/"orphan".*add @Job\(\)/);

    @Injectable()
    class AllWithoutOverlap {
      @Recurring('* * * * *', { missed: 'all' })
      @Job({ name: 'all.skip' })
      run() {}
    }
    expect(await startupMessage([AllWithoutOverlap])).toMatch(
      /missed expected 'skip' or 'latest'/,
    );
  });

  it('rolling deploy: a lower version never overwrites the stored declaration; the same version with another definition is replaced', async () => {
    const declare = (cron: string, version: number, payload: object) => {
      @Injectable()
      class Versioned {
        @Recurring(cron, { name: 'versioned', version, payload })
        @Job({ name: 'versioned.job' })
        run() {}
      }
      return Versioned;
    };
    const stored = async () =>
      (
        await db.query(
          `SELECT cron, version, payload FROM nest_jobs_schedules WHERE name = 'versioned'`,
        )
      )[0];
    const off = { schedules: false as const };
    const v2 = await app([declare('0 5 * * *', 2, { v: 2 })], off);
    expect(await stored()).toMatchObject({ cron: '0 5 * * *', version: 2 });
    const v1 = await app([declare('0 1 * * *', 1, { v: 1 })], off);
    expect(await stored()).toMatchObject({ cron: '0 5 * * *', version: 2 });
    expect(v1.app.logger.messages('warn').join('\n')).toMatch(
      /version 2, newer than this instance's 1/,
    );
    await app([declare('0 5 * * *', 2, { v: 'two' })], off);
    expect(await stored()).toMatchObject({
      cron: '0 5 * * *',
      version: 2,
      payload: { v: 'two' },
    });
    await v2.app.get(JobsSchedules).remove('versioned');
  });
  it('hostile run-time input is a typed error naming the schedule, and nothing is written', async () => {
    const { app: made } = await app([Picky]);
    const schedules = made.get(JobsSchedules);
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const throwing = {
      name: 'getter',
      job: 'picky.job',
      get cron(): string {
        throw new Error('boom');
      },
    };
    for (const input of [
      null,
      42,
      revoked.proxy,
      throwing,
      { name: '', job: 'picky.job', cron: '* * * * *' },
      { name: 'x'.repeat(201), job: 'picky.job', cron: '* * * * *' },
      { name: 'nul\u0000', job: 'picky.job', cron: '* * * * *' },
      {
        name: 'p',
        job: 'picky.job',
        cron: '* * * * *',
        payload: { f: () => 1 },
      },
      {
        name: 'p',
        job: 'picky.job',
        cron: '* * * * *',
        payload: { bad: true },
      },
      { name: 'p', job: 'picky.job', cron: '* * * * *', priority: 1e9 },
      { name: 'p', job: 'picky.job', cron: '* * * * *', missed: 'sometimes' },
      { name: 'p', job: 'picky.job', cron: '* * * * *', graceMs: -1 },
      { name: 'p', job: 'picky.job', cron: '* * * * *', extra: true },
      { name: 'p', job: 'picky.job', cron: 12 },
    ])
      await expect(schedules.add(input as never)).rejects.toThrow(
        InvalidScheduleError,
      );
    await expect(
      schedules.add({
        name: 'p',
        job: 'picky.job',
        cron: '* * * * *',
        payload: { bad: true },
      }),
    ).rejects.toThrow(/"p": payload is refused by the job: .*no bad payloads/);
    await expect(schedules.get(revoked.proxy as never)).rejects.toThrow(
      InvalidScheduleError,
    );
    await schedules.add({ name: 'ok', job: 'picky.job', cron: '0 0 1 1 *' });
    await expect(schedules.update('ok', null as never)).rejects.toThrow(
      InvalidScheduleError,
    );
    await expect(
      schedules.update('ok', { name: 'renamed' } as never),
    ).rejects.toThrow(InvalidScheduleError);
    expect((await schedules.list()).map((s) => s.name)).toEqual(['ok']);
  });

  it('a stored row changed by hand: a refused payload skips the occurrence, an unreadable schedule goes dormant; both advance', async () => {
    const { app: made } = await app([Picky]);
    const schedules = made.get(JobsSchedules);
    // Added far from due, then changed and made due in one statement: no occurrence can
    // be enqueued from the rows as they were added, however slow the machine.
    for (const name of ['refused', 'broken', 'hung'])
      await schedules.add({ name, job: 'picky.job', cron: '0 0 1 1 *' });
    const [madeDue] = await db.query<{ at: Date }>(
      `UPDATE nest_jobs_schedules
          SET cron = CASE name WHEN 'broken' THEN 'not a cron' ELSE '* * * * * *' END,
              payload = CASE name WHEN 'hung' THEN '{"hang": true}'::jsonb
                                  WHEN 'refused' THEN '{"bad": true}'::jsonb
                                  ELSE payload END,
              next_run_at = now()
        WHERE name IN ('refused', 'broken', 'hung')
        RETURNING now() AS at`,
    );
    const log = made.get(EventLog);
    await waitFor(
      'both to be skipped',
      () => {
        const reasons = log
          .of('schedule.skipped')
          .map((e) => `${e.schedule}:${e.reason}`);
        return (
          reasons.includes('refused:rejected') &&
          reasons.includes('broken:invalid') &&
          reasons.includes('hung:rejected')
        );
      },
      LONG,
    );
    expect(await scheduleJobs('refused')).toEqual([]);
    const broken = await schedules.get('broken');
    expect(broken.nextRunAt).toBeNull();
    // Advanced past the occurrence it skipped (however long the hung one held the tick).
    expect(
      (await schedules.get('refused')).nextRunAt!.getTime(),
    ).toBeGreaterThan(madeDue!.at.getTime());
    expect(made.logger.messages('warn').join('\n')).toMatch(
      /Schedule "broken" skipped an occurrence \(invalid\)/,
    );
    await schedules.update('broken', { cron: '0 0 1 1 *' });
    expect((await schedules.get('broken')).nextRunAt).not.toBeNull();
    await schedules.remove('broken');
    await schedules.remove('refused');
    await schedules.remove('hung');
  });
});
