import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  InvalidJobsOptionError,
  InvalidPayloadError,
  Job,
  JobDefinitionError,
  JobsModule,
  JobsService,
  runWithTraceId,
  type EnqueueOptions,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';
import { jobRow, jobRows } from '../../support/jobs-table.js';

/** How the job's validate answers, chosen by the payload's `mode`. */
function hostileValidate(payload: unknown): unknown {
  const mode = (payload as { mode?: string } | null)?.mode;
  switch (mode) {
    case 'reject-async':
      return new Promise((_, reject) =>
        setTimeout(() => reject(new Error('checked later: no')), 5),
      );
    case 'accept-async':
      return new Promise((resolve) => setTimeout(resolve, 5));
    case 'throw-revoked': {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      throw proxy;
    }
    case 'throw-untostringable':
      throw {
        toString() {
          throw new Error('no string either');
        },
      };
    case 'thenable-then-throws':
      return {
        get then() {
          throw new Error('then getter broke');
        },
      };
    default:
      return undefined;
  }
}

@Injectable()
class Hostile {
  @Job({ name: 'hostile.job', validate: hostileValidate as never })
  run(_payload: unknown) {}
}

let provideTraceId: () => unknown = () => undefined;

/**
 * Bad values and hostile user code on the enqueue side: each is a typed error raised before
 * anything is sent, so it never aborts the caller's transaction, and the process lives.
 */
describe('JobsService with hostile input', () => {
  const suite = useJobsSuite('hostile_input');
  const { db } = suite;
  let app: SuiteApp;
  let jobs: JobsService;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    app = await suite.app({
      providers: [Hostile],
      jobsModule: JobsModule.forRoot({
        runMigrations: true,
        worker: { enabled: false },
        traceIdProvider: () => provideTraceId() as string,
      }),
    });
    jobs = app.get(JobsService);
    await db.query('CREATE TABLE caller_rows (note text NOT NULL)');
  });
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  async function refusal(call: () => Promise<unknown>): Promise<Error> {
    const before = (await jobRows(db)).length;
    const error = await call().then(
      () => new Error('expected a refusal'),
      (e: unknown) => e as Error,
    );
    expect((await jobRows(db)).length).toBe(before); // nothing was written
    return error;
  }

  const refusedInTransaction: Array<
    [string, (options: EnqueueOptions) => Promise<unknown>, string]
  > = [
    [
      'U+0000 deep in a payload value',
      (o) => jobs.enqueue('hostile.job', { items: [{}, { name: 'a\0' }] }, o),
      'Invalid payload for job "hostile.job": payload.items[1].name contains U+0000 at index 1, which PostgreSQL cannot store',
    ],
    [
      'a lone surrogate in a payload key',
      (o) => jobs.enqueue('hostile.job', { ['k\ud800']: 1 }, o),
      'Invalid payload for job "hostile.job": payload["k\\ud800"] is a key that contains a lone surrogate U+D800 at index 1, which PostgreSQL cannot store',
    ],
    [
      'U+0000 in a job name',
      (o) => jobs.enqueue('hostile\0job', {}, o),
      'Invalid nest-jobs option "name": expected text PostgreSQL can store (contains U+0000 at index 7), got "hostile\\u0000job"',
    ],
    [
      'a lone surrogate in a queue',
      (o) => jobs.enqueue('hostile.job', {}, { ...o, queue: 'q\udc00' }),
      'Invalid nest-jobs option "queue": expected text PostgreSQL can store (contains a lone surrogate U+DC00 at index 1), got "q\\udc00"',
    ],
    [
      'U+0000 in an explicit trace id',
      (o) => jobs.enqueue('hostile.job', {}, { ...o, traceId: 't\0' }),
      'Invalid nest-jobs option "traceId": expected text PostgreSQL can store (contains U+0000 at index 1), got "t\\u0000"',
    ],
    [
      'a runAt before timestamptz begins',
      (o) =>
        jobs.enqueue(
          'hostile.job',
          {},
          { ...o, runAt: new Date(Date.UTC(-4713, 10, 24) - 1) },
        ),
      'Invalid nest-jobs option "runAt": expected a Date PostgreSQL can store (from 4714-11-24 BC on), got Date(-004713-11-23T23:59:59.999Z)',
    ],
    [
      'an async validate that rejects',
      (o) => jobs.enqueue('hostile.job', { mode: 'reject-async' }, o),
      `Invalid payload for job "hostile.job": payload was rejected by the job's validate(): checked later: no`,
    ],
    [
      'one bad item of a bulk call',
      (o) =>
        jobs.enqueueMany(
          [
            { name: 'hostile.job', payload: {} },
            { name: 'hostile.job', payload: {} },
            { name: 'hostile.job', payload: { s: '\ud83d' } },
          ],
          o,
        ),
      'Invalid payload for job "hostile.job": jobs[2].payload.s contains a lone surrogate U+D83D at index 0, which PostgreSQL cannot store',
    ],
  ];
  it.each(refusedInTransaction)(
    "refuses %s before sending it: the caller's transaction goes on and commits",
    async (_kind, enqueue, message) => {
      const dataSource = app.get(DataSource);
      await db.query('DELETE FROM caller_rows');
      let error: unknown;
      await dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO caller_rows VALUES ('before')`);
        error = await enqueue({ manager }).catch((e: unknown) => e);
        await manager.query(`INSERT INTO caller_rows VALUES ('after')`);
      });
      expect(error).toBeInstanceOf(
        message.startsWith('Invalid payload')
          ? InvalidPayloadError
          : InvalidJobsOptionError,
      );
      expect((error as Error).message).toBe(message);
      expect(await db.query('SELECT note FROM caller_rows')).toEqual([
        { note: 'before' },
        { note: 'after' },
      ]);
      expect(await jobRows(db)).toEqual([]);
    },
  );

  it('stores the first and the last instant timestamptz and Date share', async () => {
    const first = new Date(Date.UTC(-4713, 10, 24));
    const last = new Date(8.64e15);
    const ids = await jobs.enqueueMany([
      { name: 'hostile.job', payload: {}, runAt: first },
      { name: 'hostile.job', payload: {}, runAt: last },
    ]);
    expect((await jobRow(db, ids[0]!))!.run_at.getTime()).toBe(first.getTime());
    expect((await jobRow(db, ids[1]!))!.run_at.getTime()).toBe(last.getTime());
    await db.query('DELETE FROM nest_jobs');
  });

  it('awaits an async validate: accepted payloads are written, a rejection by index writes none', async () => {
    const id = await jobs.enqueue('hostile.job', { mode: 'accept-async' });
    expect(await jobRow(db, id)).toBeDefined();
    const error = await refusal(() =>
      jobs.enqueueMany('hostile.job', [
        { mode: 'accept-async' },
        { mode: 'reject-async' },
        { mode: 'accept-async' },
      ]),
    );
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect(error.message).toBe(
      `Invalid payload for job "hostile.job": payloads[1] was rejected by the job's validate(): checked later: no`,
    );
    // An async verdict pending when a later item fails synchronously is never left unhandled.
    const sync = await refusal(() =>
      jobs.enqueueMany('hostile.job', [{ mode: 'reject-async' }, { n: NaN }]),
    );
    expect(sync.message).toBe(
      'Invalid payload for job "hostile.job": payloads[1].n is NaN, which JSON cannot represent',
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    await db.query('DELETE FROM nest_jobs');
  });

  it.each([
    ['throws a revoked Proxy', 'throw-revoked'],
    ['throws a value whose toString throws', 'throw-untostringable'],
    ['returns a thenable whose then getter throws', 'thenable-then-throws'],
  ])(
    'refuses a payload whose validate %s, with a readable reason',
    async (_kind, mode) => {
      const error = await refusal(() => jobs.enqueue('hostile.job', { mode }));
      expect(error).toBeInstanceOf(InvalidPayloadError);
      expect(error.message).toMatch(
        /^Invalid payload for job "hostile\.job": payload was rejected by the job's validate\(\): (\(a thrown value that cannot be described\)|then getter broke)$/,
      );
    },
  );

  it('enqueueMany(jobs, options) refuses an option that would not apply, and a manager per job', async () => {
    const delay = await refusal(() =>
      jobs.enqueueMany([{ name: 'hostile.job', payload: {} }], {
        delay: 5,
      } as never),
    );
    expect(delay).toBeInstanceOf(InvalidJobsOptionError);
    expect(delay.message).toBe(
      'Invalid nest-jobs option "delay": does not apply to enqueueMany(jobs, options), whose options take only manager: give it in each job ({ name, payload, delay }), got 5',
    );
    const manager = app.get(DataSource).manager;
    const perJob = await refusal(() =>
      jobs.enqueueMany([
        { name: 'hostile.job', payload: {} },
        { name: 'hostile.job', payload: {}, manager } as never,
      ]),
    );
    expect(perJob.message).toBe(
      'Invalid nest-jobs option "jobs[1].manager": applies to the whole call, not to one job: give it in the second argument of enqueueMany(jobs, { manager }), got an object',
    );
  });

  it('enqueueMany refuses a list it cannot read, naming the list or the item, and writes nothing', async () => {
    const revoked = () => {
      const { proxy, revoke } = Proxy.revocable([], {});
      revoke();
      return proxy;
    };
    // A list whose third item throws when read.
    const brokenAt2 = new Proxy([{}, {}, {}], {
      get(target, key, receiver) {
        if (key === '2') throw new Error('item trap broke');
        return Reflect.get(target, key, receiver);
      },
    });
    const before = (await jobRows(db)).length;
    const cases: Array<[() => Promise<unknown>, string]> = [
      [
        () => jobs.enqueueMany('hostile.job', revoked()),
        'Invalid nest-jobs option "payloads": expected a list that can be read, but reading it threw: ',
      ],
      [
        () => jobs.enqueueMany(revoked() as never),
        'Invalid nest-jobs option "jobs": expected a list that can be read, but reading it threw: ',
      ],
      [
        () => jobs.enqueueMany('hostile.job', brokenAt2),
        'Invalid nest-jobs option "payloads[2]": expected a list that can be read, but reading it threw: item trap broke',
      ],
    ];
    for (const [call, message] of cases) {
      const error = await refusal(call);
      expect(error).toBeInstanceOf(InvalidJobsOptionError);
      expect(error.message.startsWith(message)).toBe(true);
    }
    expect((await jobRows(db)).length).toBe(before);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'a typed enqueue naming %s, a member of every object, is a JobDefinitionError',
    async (method) => {
      const error = await refusal(() =>
        jobs.enqueue(Hostile, method as never, {} as never),
      );
      expect(error).toBeInstanceOf(JobDefinitionError);
      expect(error.message).toBe(
        `Invalid @Job handler Hostile#${method}: this method has no @Job() decorator`,
      );
    },
  );

  describe('implicit trace ids never cost the job', () => {
    afterAll(() => {
      provideTraceId = () => undefined;
    });

    it.each<[string, () => unknown, string | null]>([
      [
        'a provider that throws',
        () => {
          throw new Error('tracer down');
        },
        null,
      ],
      ['a provider that returns a number', () => 42, null],
      ['a provider that returns U+0000', () => 'trace\0id', null],
      // Clipping to 64 characters would split the pair: the id is dropped, not mangled.
      [
        'a clip that splits a surrogate pair',
        () => 'x'.repeat(63) + '😀',
        null,
      ],
      ['a long provided id, clipped', () => 'y'.repeat(70), 'y'.repeat(64)],
    ])('%s', async (_kind, provider, stored) => {
      provideTraceId = provider;
      const id = await jobs.enqueue('hostile.job', {});
      expect((await jobRow(db, id))!.trace_id).toBe(stored);
    });

    it('a context id PostgreSQL refuses is dropped too', async () => {
      const id = await runWithTraceId('req\ud800', () =>
        jobs.enqueue('hostile.job', {}),
      );
      expect((await jobRow(db, id))!.trace_id).toBeNull();
    });
  });
});

describe('JobsService with options that throw when read', () => {
  const suite = useJobsSuite('hostile_options');
  const { db } = suite;
  let jobs: JobsService;

  beforeAll(async () => {
    const app = await suite.app({
      providers: [Hostile],
      jobs: { worker: { enabled: false } },
    });
    jobs = app.get(JobsService);
  });

  const revoked = () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  };
  const throwingGetter = {
    get delay(): number {
      throw new Error('getter broke');
    },
  };

  it.each<[string, () => Promise<unknown>, RegExp]>([
    [
      'a revoked Proxy as enqueue options',
      () => jobs.enqueue('hostile.job', {}, revoked()),
      /^Invalid nest-jobs option "options": expected options that can be read, but reading them threw: Cannot perform '\w+' on a proxy that has been revoked, got a value that cannot be read \(a revoked Proxy\?\)$/,
    ],
    [
      'a throwing getter in enqueueMany options',
      () => jobs.enqueueMany('hostile.job', [{}], throwingGetter),
      /^Invalid nest-jobs option "options": expected options that can be read, but reading them threw: getter broke, got an object$/,
    ],
    [
      'a revoked Proxy as an item of enqueueMany(jobs)',
      () =>
        jobs.enqueueMany([
          { name: 'hostile.job', payload: {} },
          revoked() as never,
        ]),
      /^Invalid nest-jobs option "jobs\[1\]": expected \{ name, payload, \.\.\.options \} that can be read, but reading it threw: .*revoked, got a value that cannot be read/,
    ],
    [
      'a number as options',
      () => jobs.enqueue('hostile.job', {}, 5 as never),
      /^Invalid nest-jobs option "options": expected an object, got 5$/,
    ],
  ])('refuses %s with a typed error', async (_kind, call, message) => {
    const error = await call().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidJobsOptionError);
    expect((error as Error).message).toMatch(message);
    expect(await jobRows(db)).toEqual([]);
  });
});
