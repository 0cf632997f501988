// nest-jobs as users run it: a real Nest application context, JobsModule.forRoot with a
// TypeORM DataSource, a provider whose @Job method is the handler, JobsService to enqueue.
// Two contexts share one DataSource (one pg pool, like one app): a producer context with the
// worker disabled, used to load jobs while nothing claims them, and a worker context started
// when the scenario says so. While the worker context runs, enqueues go through its own
// JobsService, as in an application that both enqueues and works.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Job, JobsModule, JobsService } from 'nest-jobs';
import { DataSource } from 'typeorm';
import { ledger } from '../child/ledger.mjs';
import { explainBoth, intArray, uuidArray } from '../child/explain.mjs';
import { copyTemplateRows, orderedTime } from '../child/prefill.mjs';

export const VARIANTS = {
  default: {
    label: 'defaults',
    options: { worker: {} },
    describe:
      'JobsModule.forRoot({ dataSource, runMigrations: true }): concurrency 20, batchSize = concurrency, pollIntervalMs 1000, LISTEN/NOTIFY wake-ups; TypeORM pool of 10',
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
      "worker: { concurrency: 2000, batchSize: 1000 } (the README's throughput recipe: claims of 1000, twice as many slots); rest as defaults",
  },
};

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

function moduleFor(dataSource, worker) {
  class BenchJobsModule {}
  Module({
    imports: [JobsModule.forRoot({ dataSource, runMigrations: true, worker })],
    providers: [NoopJobs],
  })(BenchJobsModule);
  return BenchJobsModule;
}

// Every statement of the library starts with a tag naming it (`/* nest-jobs:claim */`).
const TAG_KINDS = {
  claim: 'claim',
  complete: 'complete',
  fail: 'fail',
  insert_one: 'insert',
  insert_one_due_now: 'insert',
  insert_many: 'insert',
  insert_one_notify: 'insert',
  insert_many_notify: 'insert',
  notify: 'notify',
  heartbeat: 'heartbeat',
  recover_expired: 'recover',
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
  let dataSource;
  let producer;
  let jobs;
  let workerApp = null;
  let workerJobs = null;
  const q = (text, values) => dataSource.query(text, values);

  return {
    async init() {
      dataSource = new DataSource({ type: 'postgres', url });
      await dataSource.initialize();
      producer = await NestFactory.createApplicationContext(
        moduleFor(dataSource, { ...settings.options.worker, enabled: false }),
        {
          logger: ['error', 'warn'],
        },
      );
      jobs = producer.get(JobsService);
    },
    enqueueOne: (seq) => (workerJobs ?? jobs).enqueue('noop', { seq }),
    enqueueMany: (seqs) =>
      (workerJobs ?? jobs).enqueueMany(
        'noop',
        seqs.map((seq) => ({ seq })),
      ),
    async startWorker() {
      workerApp = await NestFactory.createApplicationContext(
        moduleFor(dataSource, settings.options.worker),
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
    /**
     * EXPLAIN ANALYZE of the library's own claim and completion statements, custom and
     * generic plan (child/explain.mjs), rolled back. White-box on purpose: the texts are read
     * from the repository JobsService holds, so the plans are those of the statements the
     * worker runs.
     */
    async explainHotPath(limit) {
      const queries = jobs.repository?.queries;
      if (!queries?.claim || !queries?.complete) return null;
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      const query = (text, values) => runner.query(text, values);
      try {
        await query('BEGIN');
        const claim = await explainBoth(query, queries.claim.text, [
          "'default'",
          String(limit),
          '60000',
        ]);
        // Claim for real inside the transaction, so the completion has running rows to match.
        const result = await query(queries.claim.text, [
          'default',
          limit,
          60_000,
        ]);
        const claimed = Array.isArray(result[0]) ? result[0] : result; // TypeORM answers an UPDATE with [rows, count]
        const complete = await explainBoth(query, queries.complete.text, [
          uuidArray(claimed.map((r) => r.id)),
          intArray(claimed.map((r) => r.attempt)),
        ]);
        await query('ROLLBACK');
        return [
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
      if (/pg_notify/i.test(text)) return 'notify';
      return 'other';
    },
    async close() {
      await workerApp?.close();
      await producer?.close();
      await dataSource?.destroy();
    },
  };
}
