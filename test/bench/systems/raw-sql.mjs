// Adapter for the minimal hand-written queue (raw-sql-queue.mjs): a pg Pool of 10 like the
// others' default pools, plus one dedicated LISTEN connection for the worker.
import pg from 'pg';
import { ledger } from '../child/ledger.mjs';
import { bigintArray, explainBoth, uuidArray } from '../child/explain.mjs';
import { copyTemplateRows, orderedTime } from '../child/prefill.mjs';
import { RawProducer, RawWorker, rawQueueSql } from './raw-sql-queue.mjs';

const WORKER = { concurrency: 200, claimSize: 200, pollMs: 1000 };

export const VARIANTS = {
  default: {
    label: 'limit',
    table: 'bigint',
    worker: WORKER,
    describe:
      'hand-written SKIP LOCKED queue on pg: prepared INSERT + coalesced pg_notify after commit; prepared claim of up to 200 into a local buffer (refilled below 100), 200 slots; one UPDATE ... WHERE id = ANY($1) per completion flush; pool of 10 + 1 LISTEN connection',
  },
  // The small concurrency: 10 handlers, a buffer of claims of 20 (the next batch is
  // claimed while the current one runs).
  c10: {
    label: 'limit, 10 in flight',
    table: 'bigint',
    worker: { concurrency: 10, claimSize: 20, pollMs: 1000 },
    describe:
      'the limit queue with 10 handlers and claims of up to 20 into its buffer (refilled below 10): the next batch is claimed while the current one runs',
  },
  // Enqueue and drain: how much of the gap to the limit is the table contract itself.
  contract: {
    label: 'limit, on the nest-jobs table contract',
    table: 'contract',
    worker: WORKER,
    describe:
      'the same queue on the key and indexes schema.md fixes for nest-jobs: a uuid primary key (time-ordered v7 ids made by the producer, as nest-jobs does) and the partial index on running leases (locked_until WHERE status = running) that crash recovery needs; columns, claim, completion and worker as the limit',
  },
};

export function createAdapter({ url, variant }) {
  const settings = VARIANTS[variant];
  const sql = rawQueueSql(settings.table);
  const STATEMENTS = sql.statements;
  let pool;
  let producer;
  let worker = null;
  let listenClient = null;
  const q = async (text, values) => (await pool.query(text, values)).rows;

  return {
    async init() {
      pool = new pg.Pool({ connectionString: url, max: 10 });
      for (const statement of sql.schema) await pool.query(statement);
      producer = new RawProducer(pool, STATEMENTS, {
        makesIds: sql.producerMakesIds,
      });
    },
    enqueueOne: (seq) => producer.enqueue({ seq }),
    enqueueMany: (seqs) => producer.enqueueMany(seqs.map((seq) => ({ seq }))),
    async startWorker() {
      listenClient = new pg.Client({ connectionString: url });
      await listenClient.connect();
      worker = new RawWorker(
        pool,
        listenClient,
        async (payload) => {
          ledger.run(payload.seq);
        },
        STATEMENTS,
        settings.worker,
      );
      await worker.start();
    },
    async stopWorker() {
      await worker?.stop();
      await listenClient?.end();
      worker = null;
      listenClient = null;
    },
    async remaining() {
      const [row] = await q(
        `SELECT count(*)::int AS n FROM raw_jobs WHERE status IN ('pending', 'running')`,
      );
      return row.n;
    },
    async countJobs() {
      const [row] = await q('SELECT count(*)::int AS n FROM raw_jobs');
      return row.n;
    },
    async finalState() {
      const done = await q(
        `SELECT (payload->>'seq')::int AS seq FROM raw_jobs WHERE status = 'completed' AND (payload->>'seq')::int >= 0`,
      );
      const states = await q(
        `SELECT status, count(*)::int AS n FROM raw_jobs WHERE (payload->>'seq')::int >= 0 GROUP BY status`,
      );
      const counts = Object.fromEntries(states.map((r) => [r.status, r.n]));
      return {
        doneSeqs: done.map((r) => r.seq),
        pending: counts.pending ?? 0,
        running: counts.running ?? 0,
        failed: 0,
      };
    },
    async prefill({ pending, history }) {
      await producer.enqueue({ seq: -1 });
      const where = `(payload->>'seq')::int = -1`;
      const db = { query: q };
      await copyTemplateRows(db, {
        table: 'public.raw_jobs',
        templateWhere: where,
        from: 1,
        to: history,
        overrides: {
          payload: `jsonb_build_object('seq', -1 - g)`,
          status: `'completed'`,
          attempts: '1',
          run_at: `now() - interval '1 day' + g * interval '1 microsecond'`,
          finished_at: `now() - interval '1 day' + g * interval '1 microsecond'`,
        },
      });
      await copyTemplateRows(db, {
        table: 'public.raw_jobs',
        templateWhere: where,
        from: 0,
        to: pending - 1,
        overrides: {
          payload: `jsonb_build_object('seq', g)`,
          run_at: orderedTime(pending),
        },
      });
      await q(`DELETE FROM raw_jobs WHERE ${where}`);
    },
    async analyze() {
      await q('VACUUM ANALYZE raw_jobs');
    },
    /** The same EXPLAINs as nest-jobs' adapter, for comparison (rolled back). */
    async explainHotPath(limit) {
      const client = await pool.connect();
      const query = async (text, values) =>
        (await client.query(text, values)).rows;
      const oneLine = (text) => text.replace(/\s+/g, ' ');
      try {
        await query('BEGIN');
        const claim = await explainBoth(query, STATEMENTS.claim.text, [
          "'default'",
          String(limit),
        ]);
        const claimed = await query(STATEMENTS.claim.text, ['default', limit]);
        const complete = await explainBoth(query, STATEMENTS.complete.text, [
          (settings.table === 'contract' ? uuidArray : bigintArray)(
            claimed.map((r) => r.id),
          ),
        ]);
        await query('ROLLBACK');
        return [
          {
            title: `claim of ${limit}`,
            statement: oneLine(STATEMENTS.claim.text),
            ...claim,
          },
          {
            title: `completion of ${claimed.length}`,
            statement: oneLine(STATEMENTS.complete.text),
            ...complete,
          },
        ];
      } finally {
        client.release();
      }
    },
    classify(text, name) {
      if (name === 'raw_claim') return 'claim';
      if (name === 'raw_complete') return 'complete';
      if (name?.startsWith('raw_insert')) return 'insert';
      if (name === 'raw_notify') return 'notify';
      if (/^\s*LISTEN/i.test(text)) return 'listen';
      return 'other';
    },
    async close() {
      await this.stopWorker();
      await producer?.flush();
      await pool?.end();
    },
  };
}
