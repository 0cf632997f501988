// pg-boss 12 through its public API: one PgBoss instance (its own pool of 10) that both sends
// and works, as an application would. The handler receives a batch and runs the same no-op for
// each job in it.
import { PgBoss } from 'pg-boss';
import { ledger } from '../child/ledger.mjs';
import { limitProbe } from '../child/limit-probe.mjs';
import { LIMITS } from '../lib/options.mjs';
import { copyTemplateRows, orderedTime } from '../child/prefill.mjs';

const QUEUE = 'noop';

export const VARIANTS = {
  default: {
    label: 'defaults',
    boss: {},
    queue: {},
    work: {},
    describe:
      'new PgBoss(url), createQueue(name), work(name, handler): batchSize 1, localConcurrency 1, pollingIntervalSeconds 2, no LISTEN/NOTIFY; pool of 10',
  },
  tuned: {
    label: 'tuned',
    // The 12.x docs (types.d.ts / pgboss.io workers): batchSize to fetch many jobs per round
    // trip, localConcurrency for parallel fetch loops, burstWhenBatchFull to fetch again at once
    // while batches come back full, LISTEN/NOTIFY (instance useListenNotify + queue notify) for
    // latency, and the shortest allowed base poll. The docs give no sizes: batchSize 50..1000 x
    // localConcurrency 1..8 were tried on this machine (20k-job drain) and the fastest kept
    // (500 x 4 and 1000 x 4 tie at ~30k jobs/s; 100 x 4 ~23k; 50 x any < 9k).
    boss: { useListenNotify: true },
    queue: { notify: true },
    work: {
      batchSize: 500,
      localConcurrency: 4,
      burstWhenBatchFull: true,
      pollingIntervalSeconds: 0.5,
    },
    describe:
      'new PgBoss({ useListenNotify: true }), createQueue(name, { notify: true }), work(name, { batchSize: 500, localConcurrency: 4, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5 }) (sizes: the fastest of 50..1000 x 1..8 on this machine); pool of 10',
  },
};

// The ordered scenario (issue 22), two ways:
// - `-fifo`: pg-boss's ordered mode, a queue with policy 'key_strict_fifo' and the key as each
//   job's singletonKey (FIFO per key; an active, retrying or failed job holds its key only).
// - `-grouped`: each key a group, at most one running job per group across every node
//   (work's groupConcurrency: 1). pg-boss documents no order within a group. Its fetch takes
//   `batchSize` candidates in created_on order first and keeps one per group after: with the
//   big key loaded first every candidate is the big key's, so each fetch returns one job (a
//   short batch, so no burst: the next fetch waits for the poll), and which one is random
//   (ranked by uuid). The tuned batch of 500 stalled on this in the quick run; not run by
//   default (catalog.mjs), kept to show it.
for (const name of ['default', 'tuned']) {
  const { label, boss, queue, work, describe } = VARIANTS[name];
  VARIANTS[`${name}-fifo`] = {
    label: `${label}, key_strict_fifo`,
    boss,
    queue: { ...queue, policy: 'key_strict_fifo' },
    work,
    keyedBy: 'singletonKey',
    describe: `${describe}; createQueue(name, { policy: 'key_strict_fifo' }), jobs sent with singletonKey: key`,
  };
  VARIANTS[`${name}-grouped`] = {
    label: `${label}, groupConcurrency 1`,
    boss,
    queue,
    work: { ...work, groupConcurrency: 1 },
    keyedBy: 'group',
    describe: `${describe}; jobs sent with group: { id: key }, work(..., { groupConcurrency: 1 })`,
  };
}

// The limits scenario (issue 22): pg-boss's cluster-wide limit is per group
// (work's groupConcurrency: "Limit concurrent jobs per group globally across all nodes
// (database tracking)", types.d.ts of 12.38), so every job is sent in one group. Each of the
// LIMITS.limitWorkers workers is a PgBoss instance of its own (a node) fetching batches of
// LIMITS.limitSlots and running a batch's jobs side by side. Tried first, one job per fetch
// loop (batchSize 1, localConcurrency 10): a loop waits its poll after every job (a batch of
// one is "full" only for burstWhenReadyExceeds, which reads a queue cache refreshed once a
// minute), 20 jobs/s per node; with LISTEN/NOTIFY a fetch that found the group full waits
// for the notify backstop, as completions notify nothing (20 jobs, then a stall).
VARIANTS['limit-concurrency'] = {
  label: `${LIMITS.limitWorkers} instances, groupConcurrency ${LIMITS.limitConcurrency} (one group)`,
  boss: {},
  queue: {},
  work: {
    batchSize: LIMITS.limitSlots,
    burstWhenBatchFull: true,
    pollingIntervalSeconds: 0.5,
    groupConcurrency: LIMITS.limitConcurrency,
  },
  limitMode: 'concurrency',
  describe: `${LIMITS.limitWorkers} PgBoss instances (pool of 10 each), work(name, { batchSize: ${LIMITS.limitSlots}, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, groupConcurrency: ${LIMITS.limitConcurrency} }), a batch's jobs run side by side; every job sent with group: { id: 'all' }`,
};

export function createAdapter({ url, variant }) {
  const settings = VARIANTS[variant];
  const nodes = [];
  let boss;
  const q = async (text, values) =>
    (await boss.getDb().executeSql(text, values)).rows;

  return {
    async init() {
      boss = new PgBoss({ connectionString: url, ...settings.boss });
      boss.on('error', (error) =>
        console.error(`[pg-boss error] ${error.message}`),
      );
      await boss.start();
      await boss.createQueue(QUEUE, settings.queue);
    },
    enqueueOne: (seq) => boss.send(QUEUE, { seq }),
    enqueueMany: (seqs) =>
      boss.insert(
        QUEUE,
        seqs.map((seq) => ({ data: { seq } })),
      ),
    async enqueueKeyed(seqs, key) {
      if (settings.keyedBy === 'group') {
        await boss.insert(
          QUEUE,
          seqs.map((seq) => ({ data: { seq }, group: { id: key } })),
        );
        return;
      }
      // key_strict_fifo orders a key by created_on, the transaction's time, and breaks ties
      // by id, a random uuid: the jobs of one insert() share created_on and would run in
      // random order. One send per job gives each its own time (the quick run saw calls out
      // of key order with insert()).
      for (const seq of seqs)
        await boss.send(QUEUE, { seq }, { singletonKey: key });
    },
    limitMode: settings.limitMode,
    enqueueLimited: (seqs) =>
      boss.insert(
        QUEUE,
        seqs.map((seq) => ({ data: { seq }, group: { id: 'all' } })),
      ),
    async startWorker() {
      if (settings.limitMode) {
        for (let i = 0; i < LIMITS.limitWorkers; i += 1) {
          const node = new PgBoss({ connectionString: url, ...settings.boss });
          node.on('error', (error) =>
            console.error(`[pg-boss error] ${error.message}`),
          );
          await node.start();
          nodes.push(node);
        }
        for (const node of nodes)
          await node.work(QUEUE, settings.work, async (jobs) => {
            await Promise.all(jobs.map((job) => limitProbe.run(job.data.seq)));
          });
        return;
      }
      await boss.work(QUEUE, settings.work, async (jobs) => {
        for (const job of jobs) ledger.run(job.data.seq);
      });
    },
    async stopWorker() {
      if (nodes.length) {
        await Promise.all(
          nodes.map((node) => node.offWork(QUEUE, { wait: true })),
        );
        return;
      }
      await boss.offWork(QUEUE, { wait: true });
    },
    /** The queue's starts as pg-boss recorded them (started_on), epoch ms. */
    async recordedStarts() {
      const rows = await q(
        `SELECT date_part('epoch', started_on) * 1000 AS at FROM pgboss.job WHERE name = $1 AND started_on IS NOT NULL`,
        [QUEUE],
      );
      return rows.map((row) => Number(row.at));
    },
    async remaining() {
      const [row] = await q(
        `SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state IN ('created', 'retry', 'active')`,
        [QUEUE],
      );
      return row.n;
    },
    async countJobs() {
      const [row] = await q(
        'SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1',
        [QUEUE],
      );
      return row.n;
    },
    async finalState() {
      const done = await q(
        `SELECT (data->>'seq')::int AS seq FROM pgboss.job WHERE name = $1 AND state = 'completed' AND (data->>'seq')::int >= 0`,
        [QUEUE],
      );
      const states = await q(
        `SELECT state::text AS state, count(*)::int AS n FROM pgboss.job WHERE name = $1 AND (data->>'seq')::int >= 0 GROUP BY state`,
        [QUEUE],
      );
      const counts = Object.fromEntries(states.map((r) => [r.state, r.n]));
      return {
        doneSeqs: done.map((r) => r.seq),
        pending: (counts.created ?? 0) + (counts.retry ?? 0),
        running: counts.active ?? 0,
        failed: counts.failed ?? 0,
      };
    },
    async prefill({ pending, history }) {
      const templateId = await boss.send(QUEUE, { seq: -1 });
      const db = { query: q };
      const where = `id = '${templateId}' AND name = '${QUEUE}'`;
      const past = `now() - interval '1 day' + g * interval '1 microsecond'`;
      await copyTemplateRows(db, {
        table: 'pgboss.job',
        templateWhere: where,
        from: 1,
        to: history,
        overrides: {
          id: 'gen_random_uuid()',
          data: `jsonb_build_object('seq', -g)`,
          state: `'completed'`,
          created_on: past,
          start_after: past,
          started_on: past,
          completed_on: past,
        },
      });
      await copyTemplateRows(db, {
        table: 'pgboss.job',
        templateWhere: where,
        from: 0,
        to: pending - 1,
        overrides: {
          id: 'gen_random_uuid()',
          data: `jsonb_build_object('seq', g)`,
          created_on: orderedTime(pending),
          start_after: orderedTime(pending),
        },
      });
      await q(`DELETE FROM pgboss.job WHERE ${where}`);
    },
    async analyze() {
      await q('VACUUM ANALYZE pgboss.job_common');
    },
    classify(text) {
      if (/^\s*LISTEN/i.test(text)) return 'listen';
      if (/SKIP LOCKED/i.test(text) && /'active'/.test(text)) return 'claim';
      if (/INSERT INTO/i.test(text)) return 'insert';
      if (/state\s*=\s*'completed'/.test(text)) return 'complete';
      if (/pg_notify/i.test(text)) return 'notify';
      return 'other';
    },
    async close() {
      for (const node of nodes)
        await node.stop({ graceful: true, timeout: 10_000 });
      await boss?.stop({ graceful: true, timeout: 10_000 });
    },
  };
}
