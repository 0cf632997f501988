import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  InvalidJobsOptionError,
  Job,
  JobControl,
  JobsModule,
  JobsReader,
  JobsService,
  type JobsModuleOptions,
} from 'nest-jobs';
import { EventLog } from '../../support/event-log.js';
import { DataSource } from 'typeorm';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { jobRows, waitForStatus } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/** Generous: the machine is shared. */
const WAIT = { timeoutMs: 30_000 };

interface Step {
  key: string;
  n: number;
  ms?: number;
  fail?: boolean;
}

/** What the handlers saw, in the order they saw it. */
const trace: Array<{ event: 'start' | 'end'; key: string; n: number }> = [];

@Injectable()
class Steps {
  @Job({ name: 'step', queue: 'ledger', maxRetries: 0 })
  async step(payload: Step) {
    trace.push({ event: 'start', key: payload.key, n: payload.n });
    await new Promise((resolve) => setTimeout(resolve, payload.ms ?? 0));
    trace.push({ event: 'end', key: payload.key, n: payload.n });
    if (payload.fail) throw new Error(`step ${payload.key}/${payload.n} fails`);
  }

  @Job({ name: 'plain', queue: 'plain' })
  async plain(_payload: unknown) {}
}

/** For each key, its starts in order, and whether any two of its jobs overlapped. */
function perKey(events: typeof trace) {
  const starts = new Map<string, number[]>();
  const running = new Map<string, number>();
  let overlaps = 0;
  for (const { event, key, n } of events) {
    if (event === 'start') {
      starts.set(key, [...(starts.get(key) ?? []), n]);
      running.set(key, (running.get(key) ?? 0) + 1);
      if (running.get(key)! > 1) overlaps += 1;
    } else running.set(key, running.get(key)! - 1);
  }
  return { starts, overlaps };
}

const ordered = (
  onFailedJob?: 'block' | 'continue',
): JobsModuleOptions['queuePolicies'] => ({
  ledger: { ordered: true, ...(onFailedJob ? { onFailedJob } : {}) },
});

describe('ordered queues', () => {
  const suite = useJobsSuite('ordered-keys', { clearJobsAfterEach: true });
  const { db } = suite;
  afterEach(() => {
    trace.length = 0;
  });

  const app = (
    queuePolicies = ordered(),
    worker: JobsModuleOptions['worker'] = {},
  ) =>
    suite.app({
      providers: [Steps, EventLog],
      jobsModule: JobsModule.forRoot({
        runMigrations: true,
        queuePolicies,
        worker: {
          concurrency: 10,
          pollIntervalMs: 50,
          queues: ['ledger', 'plain'],
          ...worker,
        },
      }),
    });

  it('runs the jobs of a key one at a time in enqueue order, keys side by side, across enqueue calls and batches', async () => {
    const jobs = (await app()).get(JobsService);
    const ids: string[] = [];
    const batch: number[] = [];
    // Interleaved single enqueues and batches of three keys.
    for (let n = 0; n < 12; n += 1) {
      for (const key of ['a', 'b', 'c'])
        ids.push(
          await jobs.enqueue(
            'step',
            { key, n, ms: (n * 7) % 20 },
            { orderingKey: key },
          ),
        );
      if (n % 4 === 3) {
        batch.push(n * 3, n * 3 + 1, n * 3 + 2);
        ids.push(
          ...(await jobs.enqueueMany(
            'step',
            [0, 1, 2].map((i) => ({ key: 'batch', n: n * 3 + i, ms: 5 })),
            { orderingKey: 'batch' },
          )),
        );
      }
    }
    for (const id of ids) await waitForStatus(db, id, 'completed', WAIT);
    const { starts, overlaps } = perKey(trace);
    expect(overlaps).toBe(0);
    const sequence = [...Array(12).keys()];
    expect(starts.get('a')).toEqual(sequence);
    expect(starts.get('b')).toEqual(sequence);
    expect(starts.get('c')).toEqual(sequence);
    expect(starts.get('batch')).toEqual(batch);
    // Keys did run side by side: some job started while another key's job ran.
    let concurrent = 0;
    let open = 0;
    for (const { event } of trace) {
      if (event === 'start' && open > 0) concurrent += 1;
      open += event === 'start' ? 1 : -1;
    }
    expect(concurrent).toBeGreaterThan(0);
  }, 120_000);

  it('a key with 300 jobs waiting does not hold back a key with one: it starts within the first claims', async () => {
    const jobs = (await app()).get(JobsService);
    const big = await jobs.enqueueMany(
      'step',
      Array.from({ length: 300 }, (_, n) => ({ key: 'big', n, ms: 2 })),
      { orderingKey: 'big' },
    );
    const [small] = await jobs.enqueueMany('step', [{ key: 'small', n: 0 }], {
      orderingKey: 'small',
    });
    await waitForStatus(db, small!, 'completed', WAIT);
    // One job per key per claim: the small key's job is claimed by the first claim that
    // sees it, while the big key has run only the few jobs claimed before it.
    const bigBefore = trace
      .slice(
        0,
        trace.findIndex((e) => e.key === 'small'),
      )
      .filter((e) => e.event === 'start').length;
    expect(bigBefore).toBeLessThanOrEqual(3);
    for (const id of big.slice(-1))
      await waitForStatus(db, id, 'completed', WAIT);
    expect(perKey(trace).starts.get('big')).toEqual([...Array(300).keys()]);
  }, 120_000);

  it('claims take the keys round robin: with fewer slots than keys, every key advances in turn', async () => {
    const made = await app(ordered(), { concurrency: 2 });
    const jobs = made.get(JobsService);
    const keys = ['a', 'b', 'c', 'd', 'e'];
    const last: string[] = [];
    // One transaction: every key is there when the first claim looks (enqueued one after
    // another, the first keys would take turns before the last one exists).
    await made.get(DataSource).transaction(async (manager) => {
      for (const key of keys)
        last.push(
          (
            await jobs.enqueueMany(
              'step',
              Array.from({ length: 8 }, (_, n) => ({ key, n, ms: 10 })),
              { orderingKey: key, manager },
            )
          ).at(-1)!,
        );
    });
    for (const id of last) await waitForStatus(db, id, 'completed', WAIT);
    // Within every window of 10 consecutive starts (two rounds of five keys), each key
    // started at least once: no key waited while others took two turns more.
    const starts = trace.filter((e) => e.event === 'start').map((e) => e.key);
    expect(starts).toHaveLength(40);
    for (let i = 0; i + 10 <= starts.length; i += 1)
      expect(new Set(starts.slice(i, i + 10)).size).toBe(keys.length);
  }, 60_000);

  it("the next job of a key is claimed once its predecessor's outcome is written, not at the next poll", async () => {
    const jobs = (await app(ordered(), { pollIntervalMs: 600_000 })).get(
      JobsService,
    );
    const ids = await jobs.enqueueMany(
      'step',
      Array.from({ length: 20 }, (_, n) => ({ key: 'chain', n })),
      { orderingKey: 'chain' },
    );
    // Twenty jobs one after the other, with no poll in ten minutes: each is woken by the
    // outcome of the one before.
    await waitForStatus(db, ids.at(-1)!, 'completed', WAIT);
    expect(perKey(trace).starts.get('chain')).toEqual([...Array(20).keys()]);
  }, 60_000);

  it("'block' (the default): a job failed for good holds its key's later jobs, listed by the reader, until it is retried", async () => {
    const a = await app();
    const jobs = a.get(JobsService);
    const [first, second] = await jobs.enqueueMany(
      'step',
      [
        { key: 'k', n: 0, fail: true },
        { key: 'k', n: 1 },
      ],
      { orderingKey: 'k' },
    );
    const other = await jobs.enqueue(
      'step',
      { key: 'other', n: 0 },
      { orderingKey: 'other' },
    );
    await waitForStatus(db, first!, 'failed', WAIT);
    await waitForStatus(db, other, 'completed', WAIT);
    // Several poll intervals: the second job stays pending.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(
      (await jobRows(db, 'id = $1', [second])).map((r) => r.status),
    ).toEqual(['pending']);
    const blocked = await a.get(JobsReader).blockedKeys();
    expect(blocked).toEqual([
      {
        queue: 'ledger',
        orderingKey: 'k',
        failedJobId: first,
        failedAt: expect.any(Date),
        waiting: 1,
      },
    ]);
    // The retried job runs first again (it keeps its place), then the second.
    await db.query(
      `UPDATE nest_jobs SET payload = payload - 'fail' WHERE id = $1`,
      [first],
    );
    await jobs.retry(first!);
    await waitForStatus(db, second!, 'completed', WAIT);
    expect(perKey(trace).starts.get('k')).toEqual([0, 0, 1]);
    expect(await a.get(JobsReader).blockedKeys()).toEqual([]);
  }, 60_000);

  it('events and the handler context carry the ordering key (null for jobs of other queues)', async () => {
    const a = await app();
    const jobs = a.get(JobsService);
    const id = await jobs.enqueue(
      'step',
      { key: 'e', n: 0, fail: true },
      { orderingKey: 'e' },
    );
    const plain = await jobs.enqueue('plain', {});
    await waitForStatus(db, id, 'failed', WAIT);
    await waitForStatus(db, plain, 'completed', WAIT);
    const events = a.get(EventLog);
    const enqueued = events
      .of('job.enqueued')
      .flatMap((e) => e.jobs.map((job) => [job.id, job.orderingKey]));
    expect(enqueued).toEqual([
      [id, 'e'],
      [plain, null],
    ]);
    expect(events.of('job.failed').map((e) => e.job.orderingKey)).toEqual([
      'e',
    ]);
    expect(
      events
        .of('job.completed')
        .filter((e) => e.job.id === plain)
        .map((e) => e.job.orderingKey),
    ).toEqual([null]);
  }, 60_000);

  it("'continue': the key's later jobs run after a job failed for good; no key is listed as blocked", async () => {
    const a = await app(ordered('continue'));
    const jobs = a.get(JobsService);
    const [first, second] = await jobs.enqueueMany(
      'step',
      [
        { key: 'k', n: 0, fail: true },
        { key: 'k', n: 1 },
      ],
      { orderingKey: 'k' },
    );
    await waitForStatus(db, first!, 'failed', WAIT);
    await waitForStatus(db, second!, 'completed', WAIT);
    expect(perKey(trace).starts.get('k')).toEqual([0, 1]);
    expect(await a.get(JobsReader).blockedKeys()).toEqual([]);
  }, 60_000);

  it('a job retried later keeps its place: the next job of its key waits for its retry', async () => {
    const jobs = (await app(ordered('continue'))).get(JobsService);
    // The first job fails, waits 300 ms for its retry, fails again for good ('continue').
    const [first, second] = await jobs.enqueueMany(
      'step',
      [
        { key: 'r', n: 0, fail: true },
        { key: 'r', n: 1 },
      ],
      {
        orderingKey: 'r',
        maxRetries: 1,
        retry: { type: 'fixed', baseMs: 300 },
      },
    );
    await waitForStatus(db, first!, 'failed', WAIT);
    await waitForStatus(db, second!, 'completed', WAIT);
    expect(perKey(trace).starts.get('r')).toEqual([0, 0, 1]);
  }, 60_000);

  it('a reserved job holds its place (later jobs of its key wait) until it is committed in another transaction, then runs first', async () => {
    const a = await app();
    const jobs = a.get(JobsService);
    const dataSource = a.get(DataSource);
    const reserved = await dataSource.transaction((manager) =>
      jobs.enqueue(
        'step',
        { key: 'r', n: 0 },
        { orderingKey: 'r', reserve: true, manager },
      ),
    );
    const later = await jobs.enqueue(
      'step',
      { key: 'r', n: 1 },
      { orderingKey: 'r' },
    );
    const other = await jobs.enqueue(
      'step',
      { key: 'o', n: 0 },
      { orderingKey: 'o' },
    );
    await waitForStatus(db, other, 'completed', WAIT);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(perKey(trace).starts.get('r')).toBeUndefined();
    await dataSource.transaction((manager) =>
      a.get(JobControl).runNow(reserved, { manager }),
    );
    await waitForStatus(db, later, 'completed', WAIT);
    expect(perKey(trace).starts.get('r')).toEqual([0, 1]);
  }, 60_000);

  it('a discarded reservation (cancelled) lets its key go on', async () => {
    const a = await app();
    const jobs = a.get(JobsService);
    const reserved = await jobs.enqueue(
      'step',
      { key: 'd', n: 0 },
      { orderingKey: 'd', reserve: true },
    );
    const later = await jobs.enqueue(
      'step',
      { key: 'd', n: 1 },
      { orderingKey: 'd' },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(trace).toEqual([]);
    await a.get(JobControl).cancel(reserved);
    await waitForStatus(db, later, 'completed', WAIT);
    expect(perKey(trace).starts.get('d')).toEqual([1]);
    expect(
      (await jobRows(db, 'id = $1', [reserved])).map((r) => r.status),
    ).toEqual(['cancelled']);
  }, 60_000);

  it('an unordered queue beside an ordered one claims with the plain statement', async () => {
    const jobs = (await app()).get(JobsService);
    const id = await jobs.enqueue('plain', {});
    await waitForStatus(db, id, 'completed', WAIT);
    const [row] = await db.query(
      `SELECT ordering_key, order_seq FROM nest_jobs WHERE id = $1`,
      [id],
    );
    expect(row).toEqual({ ordering_key: null, order_seq: null });
  }, 60_000);

  describe('bad input', () => {
    const errorOf = async (action: () => unknown): Promise<unknown> => {
      try {
        await action();
      } catch (error) {
        return error;
      }
      throw new Error('expected an error');
    };

    it('orderingKey: required in an ordered queue, refused elsewhere, a string of 1 to 255 characters, not with unique', async () => {
      const jobs = (await app(ordered(), { enabled: false })).get(JobsService);
      const cases: Array<[unknown, string, RegExp]> = [
        [undefined, 'orderingKey', /queue "ledger" is ordered/],
        [42, 'orderingKey', /non-empty string/],
        ['', 'orderingKey', /non-empty string/],
        ['x'.repeat(256), 'orderingKey', /at most 255/],
        [' k', 'orderingKey', /white space/],
        ['a\u0000b', 'orderingKey', /PostgreSQL can store/],
      ];
      for (const [orderingKey, option, message] of cases) {
        const error = await errorOf(() =>
          jobs.enqueue(
            'step',
            { key: 'k', n: 0 },
            orderingKey === undefined
              ? {}
              : { orderingKey: orderingKey as string },
          ),
        );
        expect(error).toBeInstanceOf(InvalidJobsOptionError);
        expect((error as InvalidJobsOptionError).option).toBe(option);
        expect((error as Error).message).toMatch(message);
      }
      const wrongKind = await errorOf(() =>
        jobs.enqueue(
          'step',
          { key: 'k', n: 0 },
          { orderingKey: 'k', concurrencyKey: 'k' },
        ),
      );
      expect((wrongKind as InvalidJobsOptionError).option).toBe(
        'concurrencyKey',
      );
      expect((wrongKind as Error).message).toMatch(/keyed queues only/);
      const unordered = await errorOf(() =>
        jobs.enqueue('plain', {}, { orderingKey: 'k' }),
      );
      expect(unordered).toBeInstanceOf(InvalidJobsOptionError);
      expect((unordered as Error).message).toMatch(/queue "plain" is not one/);
      const unique = await errorOf(() =>
        jobs.enqueue(
          'step',
          { key: 'k', n: 0 },
          { orderingKey: 'k', unique: { key: 'u' } },
        ),
      );
      expect(unique).toBeInstanceOf(InvalidJobsOptionError);
      expect((unique as InvalidJobsOptionError).option).toBe('unique');
      const inMany = await errorOf(() =>
        jobs.enqueueMany([
          { name: 'step', payload: {}, orderingKey: 'k' },
          { name: 'step', payload: {} },
        ]),
      );
      expect((inMany as InvalidJobsOptionError).option).toBe(
        'jobs[1].orderingKey',
      );
      for (const [options, message] of [
        [{ reserve: true }, /needs an orderingKey/],
        [{ orderingKey: 'k', reserve: 'yes' }, /true or false/],
        [
          { orderingKey: 'k', reserve: true, delay: 10 },
          /cannot be combined with runAt or delay/,
        ],
      ] as const) {
        const error = await errorOf(() =>
          jobs.enqueue('step', { key: 'k', n: 0 }, options as never),
        );
        expect((error as InvalidJobsOptionError).option).toBe('reserve');
        expect((error as Error).message).toMatch(message);
      }
      const mixed = await errorOf(() =>
        jobs.enqueueMany([
          { name: 'step', payload: {}, orderingKey: 'k' },
          { name: 'plain', payload: {}, unique: { key: 'u' } },
        ]),
      );
      expect((mixed as InvalidJobsOptionError).option).toBe('jobs');
      expect((mixed as Error).message).toMatch(/separate calls/);
      expect(await db.query('SELECT id FROM nest_jobs')).toEqual([]);
    });
  });

  it('waits for a lease to come back: a running job of a key whose worker died holds the key until it is rescued', async () => {
    const a = await app(ordered(), { recoveryIntervalMs: 100 });
    const jobs = a.get(JobsService);
    const [first, second] = await jobs.enqueueMany(
      'step',
      [
        { key: 'l', n: 0, ms: 0 },
        { key: 'l', n: 1 },
      ],
      {
        orderingKey: 'l',
        maxRetries: 1,
        runAt: new Date(Date.now() + 60_000),
      },
    );
    // As a worker that died holding the first job, its lease 1.5 s from now.
    await db.query(
      `UPDATE nest_jobs SET status = 'running', attempts = 1, started_at = now(),
              locked_until = now() + interval '1500 milliseconds', run_at = now() WHERE id = $1`,
      [first],
    );
    await db.query(`UPDATE nest_jobs SET run_at = now() WHERE id = $1`, [
      second,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(trace).toEqual([]);
    await waitForStatus(db, second!, 'completed', WAIT);
    expect(perKey(trace).starts.get('l')).toEqual([0, 1]);
    await waitFor('the first job done', async () =>
      (await jobRows(db, 'id = $1', [first])).every(
        (r) => r.status === 'completed',
      ),
    );
  }, 60_000);
});
