// nest-jobs as users run it: a real Nest application context, JobsModule.forRoot with a
// TypeORM DataSource, a provider whose @Job method is the handler, JobsService to enqueue.
// Two contexts share one DataSource (one pg pool, like one app): a producer context with the
// worker disabled, used to load jobs while nothing claims them, and a worker context started
// when the scenario says so. While the worker context runs, enqueues go through its own
// JobsService, as in an application that both enqueues and works.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Job, JobsModule, JobsReader, JobsService } from 'nest-jobs';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { ledger } from '../child/ledger.mjs';
import { explainBoth, intArray, uuidArray } from '../child/explain.mjs';
import { copyTemplateRows, orderedTime } from '../child/prefill.mjs';
import { limitProbe } from '../child/limit-probe.mjs';
import { LIMITS } from '../lib/options.mjs';

export const VARIANTS = {
  default: {
    label: 'defaults',
    options: { worker: {} },
    describe:
      'JobsModule.forRoot({ dataSource, runMigrations: true }): concurrency 20, batchSize = concurrency, pollIntervalMs 1000, LISTEN/NOTIFY wake-ups; TypeORM pool of 10',
  },
  c10: {
    label: 'concurrency 10',
    options: { worker: { concurrency: 10 } },
    describe:
      'worker: { concurrency: 10 }: batchSize defaults to 10; claimAhead defaults to what the 10 slots finish in about 50 ms (at least 10, at most 1,000), and a backlog is claimed in claims of up to that many; rest as defaults',
  },
  tuned: {
    label: 'tuned',
    // The throughput recipe of the README ("Throughput"): claims of 1000 (bigger claims
    // amortise the round trip, the commit and the plan), and twice as many slots, so that a
    // worker never claims more than its free slots yet the next claim is on the wire while
    // a batch runs. Claims of 500 with 1000 slots drained 100,000 jobs 4% slower here
    // (alternating runs: 74,400-76,000 against 77,200-80,100 jobs/s).
    options: { worker: { concurrency: 2000, batchSize: 1000 } },
    describe:
      "worker: { concurrency: 2000, batchSize: 1000 } (the README's throughput recipe: claims of up to 1000, cut by the worker while claims are slow, twice as many slots; claimAhead defaults to 1000); rest as defaults",
  },
  // Issue 21: the same no-op handler as `@Job({ transactional: true })`: each job opens a
  // transaction on the TypeORM pool (BEGIN, the transaction bound, the fenced completion,
  // COMMIT) instead of joining the worker's batched completions. Defaults otherwise, so it
  // reads against `default`.
  transactional: {
    label: 'transactional handlers',
    options: { worker: {} },
    jobName: 'noop-tx',
    describe:
      'as defaults, the handler declared @Job({ transactional: true }): one transaction per job on the TypeORM pool of 10, its completion written inside it',
  },
};
// Claim contention (issue 25, point 6): the tuned profile with claims of at most 200, the raw
// queue's size, so that N processes and one are compared at a claim size the worker does not
// cut (it cuts claims that take over 25 ms, and contended claims do).
VARIANTS['claims-200'] = {
  label: 'claims of 200',
  options: { worker: { concurrency: 400, batchSize: 200 } },
  describe:
    'worker: { concurrency: 400, batchSize: 200 } (claims of up to 200, as the raw queue; claimAhead defaults to 200); rest as defaults',
};
// The ordered scenario's variants (issue 22): the queue `ordered` declared ordered, each
// key an orderingKey. A claim takes one job per key, so concurrency beyond the number of keys
// buys nothing.
for (const name of ['default', 'tuned']) {
  const { label, options, describe } = VARIANTS[name];
  VARIANTS[name === 'default' ? 'ordered' : 'ordered-tuned'] = {
    label: `${label}, ordered queue`,
    options:
      name === 'tuned'
        ? { worker: { concurrency: 200, batchSize: 100 } }
        : options,
    ordered: true,
    describe: `${name === 'tuned' ? 'worker: { concurrency: 200, batchSize: 100 }' : describe}; queuePolicies: { ordered: { ordered: true } }, jobs enqueued with orderingKey`,
  };
}
// Fair delivery without order (issue 22): the same queue declared `fair: true`, each key a
// concurrencyKey. Jobs of a key may overlap, so the scenario does not check order per key.
VARIANTS['fair-tuned'] = {
  label: 'tuned, fair queue',
  options: { worker: { concurrency: 200, batchSize: 100 } },
  fair: true,
  describe:
    'worker: { concurrency: 200, batchSize: 100 }; queuePolicies: { ordered: { fair: true } }, jobs enqueued with concurrencyKey (no order per key)',
};
// The limits scenario's variants (issue 22): LIMITS.limitWorkers workers (each a Nest
// application context with its own DataSource, as separate instances would be) of
// LIMITS.limitSlots slots work the queue `limited` under one cluster-wide limit.
const LIMIT_WORKER = { concurrency: LIMITS.limitSlots };
VARIANTS['limit-concurrency'] = {
  label: `${LIMITS.limitWorkers} workers, queue concurrency ${LIMITS.limitConcurrency}`,
  options: { worker: LIMIT_WORKER },
  limitMode: 'concurrency',
  queuePolicies: { limited: { concurrency: LIMITS.limitConcurrency } },
  describe: `${LIMITS.limitWorkers} worker contexts, each its own DataSource and worker: { concurrency: ${LIMITS.limitSlots} }; queuePolicies: { limited: { concurrency: ${LIMITS.limitConcurrency} } }`,
};
VARIANTS['limit-rate'] = {
  label: `${LIMITS.limitWorkers} workers, queue rate limit ${LIMITS.limitRate} per ${LIMITS.limitRatePeriodMs} ms`,
  options: { worker: LIMIT_WORKER },
  limitMode: 'rate',
  queuePolicies: {
    limited: {
      rateLimit: {
        limit: LIMITS.limitRate,
        periodMs: LIMITS.limitRatePeriodMs,
      },
    },
  },
  describe: `${LIMITS.limitWorkers} worker contexts, each its own DataSource and worker: { concurrency: ${LIMITS.limitSlots} }; queuePolicies: { limited: { rateLimit: { limit: ${LIMITS.limitRate}, periodMs: ${LIMITS.limitRatePeriodMs} } } }`,
};
// The cost of the claim path of a queue with a cluster-wide limit (issue 22): the tuned drain
// with its queue limited to as many running jobs as the worker has slots, so the limit never
// binds and the figure is the lock, count and transaction of each claim.
VARIANTS['tuned-capped'] = {
  label: 'tuned, queue concurrency limit',
  options: VARIANTS.tuned.options,
  queuePolicies: { default: { concurrency: 2000 } },
  describe: `${VARIANTS.tuned.describe}; queuePolicies: { default: { concurrency: 2000 } } (a limit that never binds: the cost of its claim path)`,
};
// The drain scenario's variants over a backlog with five priority levels (-2..2) spread
// over the jobs, so every claim walks the claim index's priority order (issue 20).
for (const name of ['default', 'tuned']) {
  const { label, options, describe } = VARIANTS[name];
  VARIANTS[`${name}-priorities`] = {
    label: `${label}, five priority levels`,
    options,
    priorities: true,
    describe: `${describe}; jobs enqueued with priorities -2..2 (seq % 5 - 2)`,
  };
}

const UNIQUE = process.env.BENCH_UNIQUE === '1';

class NoopJobs {
  async run(payload) {
    ledger.run(payload.seq);
  }
}
// Decorators applied by hand: this file is plain JavaScript.
Injectable()(NoopJobs);
Job({ name: 'noop' })(
  NoopJobs.prototype,
  'run',
  Object.getOwnPropertyDescriptor(NoopJobs.prototype, 'run'),
);
/** The transactional variant's handler: the same no-op, in the transaction nest-jobs opens. */
class NoopTransactionalJobs {
  async run(payload) {
    ledger.run(payload.seq);
  }
}
Injectable()(NoopTransactionalJobs);
Job({ name: 'noop-tx', transactional: true })(
  NoopTransactionalJobs.prototype,
  'run',
  Object.getOwnPropertyDescriptor(NoopTransactionalJobs.prototype, 'run'),
);

// BENCH_PREPARED_STATEMENTS=false measures the library with unnamed statements, as behind a
// transaction pooler (database.preparedStatements: false), on the same direct connection.
const database =
  process.env.BENCH_PREPARED_STATEMENTS === 'false'
    ? { preparedStatements: false }
    : {};

/** The no-op handler of the ordered queue (only the ordered variants register it). */
class OrderedNoopJobs {
  async run(payload) {
    ledger.run(payload.seq);
  }
}
Injectable()(OrderedNoopJobs);
Job({ name: 'noop-ordered', queue: 'ordered' })(
  OrderedNoopJobs.prototype,
  'run',
  Object.getOwnPropertyDescriptor(OrderedNoopJobs.prototype, 'run'),
);

/** The limits scenario's handler: holds its slot (child/limit-probe.mjs). */
class LimitedJobs {
  async run(payload) {
    await limitProbe.run(payload.seq);
  }
}
Injectable()(LimitedJobs);
Job({ name: 'noop-limited', queue: 'limited' })(
  LimitedJobs.prototype,
  'run',
  Object.getOwnPropertyDescriptor(LimitedJobs.prototype, 'run'),
);

function moduleFor(dataSource, worker, settings) {
  const {
    ordered = false,
    fair = false,
    limitMode,
    queuePolicies = {},
  } = settings;
  class BenchJobsModule {}
  Module({
    imports: [
      JobsModule.forRoot({
        dataSource,
        runMigrations: true,
        worker,
        database,
        queuePolicies: {
          ...queuePolicies,
          ...(ordered ? { ordered: { ordered: true } } : {}),
          ...(fair ? { ordered: { fair: true } } : {}),
        },
      }),
    ],
    providers: [
      NoopJobs,
      NoopTransactionalJobs,
      ...(ordered || fair ? [OrderedNoopJobs] : []),
      ...(limitMode ? [LimitedJobs] : []),
    ],
  })(BenchJobsModule);
  return BenchJobsModule;
}

// Every statement of the library starts with a tag naming it (`/* nest-jobs:claim */`).
const TAG_KINDS = {
  claim: 'claim',
  complete: 'complete',
  complete_in_transaction: 'complete',
  bound_transaction: 'transaction',
  fail: 'fail',
  insert_one: 'insert',
  insert_one_due_now: 'insert',
  insert_many: 'insert',
  insert_one_notify: 'insert',
  insert_many_notify: 'insert',
  insert_many_shared: 'insert',
  insert_many_shared_notify: 'insert',
  insert_one_full: 'insert',
  insert_one_full_fresh: 'insert',
  insert_full_shared_fresh: 'insert',
  insert_full: 'insert',
  insert_full_notify: 'insert',
  insert_full_shared: 'insert',
  insert_full_shared_notify: 'insert',
  notify: 'notify',
  heartbeat: 'heartbeat',
  release: 'release',
  recover_expired: 'recover',
  claim_ordered: 'claim',
  claim_key_limited: 'claim',
  insert_ordered: 'insert',
  insert_ordered_notify: 'insert',
};

/**
 * The ids the library makes (time-ordered UUIDv7, utils/uuid-v7.ts), in SQL: the Unix
 * milliseconds of `time`, then the random part of a v4 UUID with its version nibble set to 7.
 */
const uuidV7At = (time) =>
  `overlay(lpad(to_hex((extract(epoch FROM ${time}) * 1000)::bigint), 12, '0') || ` +
  `substr(replace(gen_random_uuid()::text, '-', ''), 13) placing '7' from 13)::uuid`;

export function createAdapter({ url, variant }) {
  const settings = VARIANTS[variant];
  const jobName = settings.jobName ?? 'noop';
  let dataSource;
  let producer;
  let jobs;
  let workerApp = null;
  let workerJobs = null;
  const limitWorkers = [];
  const q = (text, values) => dataSource.query(text, values);

  return {
    async init() {
      dataSource = new DataSource({ type: 'postgres', url });
      await dataSource.initialize();
      producer = await NestFactory.createApplicationContext(
        moduleFor(
          dataSource,
          { ...settings.options.worker, enabled: false },
          settings,
        ),
        {
          logger: ['error', 'warn'],
        },
      );
      jobs = producer.get(JobsService);
    },
    // BENCH_UNIQUE=1: every job unique (a key of its own, so the row count still holds):
    // the cost of the unique insert path against the plain one (issue 20).
    enqueueOne: UNIQUE
      ? (seq) =>
          (workerJobs ?? jobs).enqueue(
            'noop',
            { seq },
            { unique: { key: String(seq) } },
          )
      : (seq) => (workerJobs ?? jobs).enqueue(jobName, { seq }),
    // Five priority levels (-2..2) across the jobs, so drains claim through the priority
    // order of the claim index (issue 20): the *-priorities variants, or BENCH_PRIORITY=1
    // for every variant.
    enqueueMany:
      process.env.BENCH_PRIORITY === '1' || settings.priorities
        ? (seqs) =>
            (workerJobs ?? jobs).enqueueMany(
              seqs.map((seq) => ({
                name: 'noop',
                payload: { seq },
                priority: (seq % 5) - 2,
              })),
            )
        : (seqs) =>
            (workerJobs ?? jobs).enqueueMany(
              jobName,
              seqs.map((seq) => ({ seq })),
              UNIQUE ? { unique: { by: ['seq'] } } : undefined,
            ),
    // The unique form of enqueueMany, whatever BENCH_UNIQUE says: the enqueue scenario's
    // interleaved batches (BENCH_UNIQUE=pairs) set it against enqueueMany's plain batches.
    enqueueManyUnique: (seqs) =>
      (workerJobs ?? jobs).enqueueMany(
        jobName,
        seqs.map((seq) => ({ seq })),
        { unique: { by: ['seq'] } },
      ),
    enqueueKeyed: (seqs, key) =>
      (workerJobs ?? jobs).enqueueMany(
        'noop-ordered',
        seqs.map((seq) => ({ seq })),
        settings.fair ? { concurrencyKey: key } : { orderingKey: key },
      ),
    /** A fair queue runs a key's jobs side by side: no order per key to check. */
    unorderedKeys: settings.fair === true,
    limitMode: settings.limitMode,
    enqueueLimited: (seqs) =>
      jobs.enqueueMany(
        'noop-limited',
        seqs.map((seq) => ({ seq })),
      ),
    async startWorker() {
      if (settings.limitMode) {
        // Separate instances: a DataSource (pool) and a worker each.
        for (let i = 0; i < LIMITS.limitWorkers; i += 1) {
          const own = new DataSource({ type: 'postgres', url });
          await own.initialize();
          const app = await NestFactory.createApplicationContext(
            moduleFor(own, settings.options.worker, settings),
            { logger: ['error', 'warn'] },
          );
          limitWorkers.push({ app, dataSource: own });
        }
        return;
      }
      workerApp = await NestFactory.createApplicationContext(
        moduleFor(dataSource, settings.options.worker, settings),
        {
          logger: ['error', 'warn'],
        },
      );
      workerJobs = workerApp.get(JobsService);
    },
    async stopWorker() {
      await workerApp?.close(); // drains: running handlers finish, outcomes are written
      workerApp = null;
      workerJobs = null;
      await Promise.all(limitWorkers.map(({ app }) => app.close()));
      await Promise.all(
        limitWorkers.map(({ dataSource: own }) => own.destroy()),
      );
      limitWorkers.length = 0;
    },
    /** The limited queue's starts as the library recorded them (started_at), epoch ms. */
    async recordedStarts() {
      const rows = await q(
        `SELECT date_part('epoch', started_at) * 1000 AS at FROM nest_jobs
         WHERE queue = 'limited' AND started_at IS NOT NULL`,
      );
      return rows.map((row) => Number(row.at));
    },
    async remaining() {
      const [row] = await q(
        `SELECT count(*)::int AS n FROM nest_jobs WHERE status IN ('pending', 'running')`,
      );
      return row.n;
    },
    async countJobs() {
      const [row] = await q('SELECT count(*)::int AS n FROM nest_jobs');
      return row.n;
    },
    async finalState() {
      const done = await q(
        `SELECT (payload->>'seq')::int AS seq FROM nest_jobs WHERE status = 'completed' AND (payload->>'seq')::int >= 0`,
      );
      const states = await q(
        `SELECT status, count(*)::int AS n FROM nest_jobs WHERE (payload->>'seq')::int >= 0 GROUP BY status`,
      );
      const counts = Object.fromEntries(states.map((r) => [r.status, r.n]));
      return {
        doneSeqs: done.map((r) => r.seq),
        pending: counts.pending ?? 0,
        running: counts.running ?? 0,
        failed: counts.failed ?? 0,
      };
    },
    async prefill({ pending, history }) {
      const templateId = await jobs.enqueue('noop', { seq: -1 });
      const where = `id = '${templateId}'`;
      await copyTemplateRows(dataSource, {
        table: 'public.nest_jobs',
        templateWhere: where,
        from: 1,
        to: history,
        overrides: {
          id: uuidV7At(
            `now() - interval '1 day' + g * interval '1 microsecond'`,
          ),
          payload: `jsonb_build_object('seq', -g)`,
          status: `'completed'`,
          attempts: '1',
          run_at: `now() - interval '1 day' + g * interval '1 microsecond'`,
          created_at: `now() - interval '1 day' + g * interval '1 microsecond'`,
          started_at: `now() - interval '1 day' + g * interval '1 microsecond'`,
          finished_at: `now() - interval '1 day' + g * interval '1 microsecond'`,
        },
      });
      await copyTemplateRows(dataSource, {
        table: 'public.nest_jobs',
        templateWhere: where,
        from: 0,
        to: pending - 1,
        overrides: {
          id: uuidV7At(orderedTime(pending)),
          payload: `jsonb_build_object('seq', g)`,
          run_at: orderedTime(pending),
          created_at: orderedTime(pending),
        },
      });
      await q(`DELETE FROM nest_jobs WHERE ${where}`);
    },
    async analyze() {
      await q('VACUUM ANALYZE nest_jobs');
    },
    /** The JobsReader of the producer context (the reader scenario). */
    reader: () => producer.get(JobsReader),
    /** Runs a statement of the benchmark's own (the reader scenario shapes its table). */
    query: (text, values) => q(text, values),
    /**
     * EXPLAIN ANALYZE of the library's own claim and completion statements, custom and
     * generic plan (child/explain.mjs), rolled back. White-box on purpose: the texts are read
     * from the repository JobsService holds, so the plans are those of the statements the
     * worker runs (and the single enqueue's insert, for the cost of a long history).
     */
    async explainHotPath(limit) {
      // JobsService reaches the repository through its JobWriter since the enqueue split.
      const queries = (jobs.repository ?? jobs.writer?.repository)?.queries;
      if (!queries?.claim || !queries?.complete) return null;
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      const query = (text, values) => runner.query(text, values);
      // A statement that reads the time takes the clock as its last parameter (NULL: the
      // database's now(), as SqlRunner binds it unless a test pinned the clock).
      const explain = (statement, literals) =>
        explainBoth(
          query,
          statement.text,
          statement.clockParameter
            ? [...literals, 'NULL::timestamptz']
            : literals,
        );
      const withClock = (statement, values) =>
        statement.clockParameter ? [...values, null] : values;
      try {
        await query('BEGIN');
        const claim = await explain(queries.claim, [
          "'default'",
          String(limit),
          '60000',
          'false', // not rate limited
        ]);
        // Claim for real inside the transaction, so the completion has running rows to match.
        const result = await query(
          queries.claim.text,
          withClock(queries.claim, ['default', limit, 60_000, false]),
        );
        const claimed = Array.isArray(result[0]) ? result[0] : result; // TypeORM answers an UPDATE with [rows, count]
        const complete = await explain(queries.complete, [
          uuidArray(claimed.map((r) => r.id)),
          intArray(claimed.map((r) => r.attempt)),
          intArray(claimed.map((r) => r.releases)),
        ]);
        // The usual single enqueue (issue 25: what a long history costs an insert).
        const insert = queries.insertOneDueNow
          ? await explain(queries.insertOneDueNow, [
              `'${randomUUID()}'::uuid`,
              "'default'",
              "'noop'",
              `'{"seq": -2}'::jsonb`,
              '3',
            ])
          : null;
        await query('ROLLBACK');
        return [
          ...(insert
            ? [
                {
                  title: 'single enqueue (insert of one job due now)',
                  statement: queries.insertOneDueNow.text,
                  ...insert,
                },
              ]
            : []),
          {
            title: `claim of ${limit}`,
            statement: queries.claim.text,
            ...claim,
          },
          {
            title: `completion of ${claimed.length}`,
            statement: queries.complete.text,
            ...complete,
          },
        ];
      } finally {
        await runner.release();
      }
    },
    classify(text) {
      const tag = /^\/\* nest-jobs:(\w+) \*\//.exec(text)?.[1];
      if (tag) return TAG_KINDS[tag] ?? 'other';
      if (/^\s*LISTEN/i.test(text)) return 'listen';
      // A transactional handler's transaction, opened by TypeORM's query runner.
      if (/^\s*(START TRANSACTION|BEGIN|COMMIT|ROLLBACK)/i.test(text))
        return 'transaction';
      if (/pg_notify/i.test(text)) return 'notify';
      return 'other';
    },
    async close() {
      await workerApp?.close();
      for (const { app, dataSource: own } of limitWorkers) {
        await app.close();
        await own.destroy();
      }
      await producer?.close();
      await dataSource?.destroy();
    },
  };
}
