// graphile-worker 0.18 through its library API: WorkerUtils (its own pool) to add jobs, run()
// with a taskList for the worker. It deletes a job when it completes, so it keeps no completed
// history: its "done" rows are the ones that are gone.
import { Logger, makeWorkerUtils, run } from 'graphile-worker';
import { ledger } from '../child/ledger.mjs';
import { copyTemplateRows, orderedTime } from '../child/prefill.mjs';

const TABLE = 'graphile_worker._private_jobs';

export const VARIANTS = {
  default: {
    label: 'defaults',
    worker: {},
    describe:
      'run({ taskList }) with the WorkerPreset defaults: concurrentJobs 1, pollInterval 2000, maxPoolSize 10, no localQueue, no completion batching; jobs added with WorkerUtils.addJob / addJobs',
  },
  tuned: {
    label: 'tuned',
    // The configuration of the "Performance" page of its docs (worker.graphile.org/docs/performance),
    // the one that produced its published peak: local queue of 500, batched completion/failure.
    worker: {
      concurrentJobs: 24,
      maxPoolSize: 25,
      localQueue: { size: 500 },
      completeJobBatchDelay: 0,
      failJobBatchDelay: 0,
    },
    describe:
      "preset.worker: { concurrentJobs: 24, maxPoolSize: 25, localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } (its docs' performance configuration)",
  },
};

// The ordered scenario's tuned variant: the docs' performance configuration without its local
// queue. The local queue fetches a batch; named queues give at most one job per queue per
// fetch (a queue is locked while its job runs), so a batch comes back short, and after a short
// batch the local queue waits `pollInterval` (2 s) before fetching again: a completion does
// not fetch, and no notification comes when nothing new is added. The quick ordered run
// stalled at about one job per poll. Without it, each of the 24 slots fetches its next job as
// it finishes one.
VARIANTS['tuned-queues'] = {
  label: 'tuned, no localQueue',
  worker: {
    concurrentJobs: 24,
    maxPoolSize: 25,
    completeJobBatchDelay: 0,
    failJobBatchDelay: 0,
  },
  describe:
    'preset.worker: { concurrentJobs: 24, maxPoolSize: 25, completeJobBatchDelay: 0, failJobBatchDelay: 0 } (the performance configuration without localQueue, which fetches named queues one job per poll interval)',
};

// Warnings and errors only: its info lines would bury the tables.
const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning')
    console.error(`[graphile-worker ${level}] ${message}`);
});

export function createAdapter({ url, variant }) {
  const settings = VARIANTS[variant];
  let utils;
  let runner = null;
  const q = async (text, values) =>
    utils.withPgClient(
      async (client) => (await client.query(text, values)).rows,
    );

  return {
    async init() {
      utils = await makeWorkerUtils({ connectionString: url, logger });
      await utils.migrate();
    },
    enqueueOne: (seq) => utils.addJob('noop', { seq }),
    enqueueMany: (seqs) =>
      utils.addJobs(
        seqs.map((seq) => ({ identifier: 'noop', payload: { seq } })),
      ),
    // The ordered scenario: a named queue per key (its jobs run one at a time, in order).
    enqueueKeyed: (seqs, key) =>
      utils.addJobs(
        seqs.map((seq) => ({
          identifier: 'noop',
          payload: { seq },
          queueName: key,
        })),
      ),
    async startWorker() {
      runner = await run({
        connectionString: url,
        logger,
        noHandleSignals: true,
        taskList: {
          noop: async (payload) => {
            ledger.run(payload.seq);
          },
        },
        preset: { worker: settings.worker },
      });
    },
    async stopWorker() {
      await runner?.stop();
      runner = null;
    },
    async remaining() {
      const [row] = await q(
        `SELECT count(*)::int AS n FROM ${TABLE} WHERE attempts < max_attempts`,
      );
      return row.n;
    },
    async countJobs() {
      const [row] = await q(`SELECT count(*)::int AS n FROM ${TABLE}`);
      return row.n;
    },
    /** Done jobs are deleted: the check is that no handled job is left and no unhandled one vanished. */
    async finalState(handledSeqs) {
      const [present] = await q(
        `SELECT count(*)::int AS n,
                count(*) FILTER (WHERE (payload->>'seq')::int = ANY($1::int[]))::int AS handled_left,
                count(*) FILTER (WHERE locked_at IS NOT NULL)::int AS running,
                count(*) FILTER (WHERE attempts >= max_attempts OR last_error IS NOT NULL)::int AS failed
         FROM ${TABLE} WHERE (payload->>'seq')::int >= 0`,
        [handledSeqs],
      );
      return {
        deletesDone: true,
        present: present.n,
        handledLeft: present.handled_left,
        running: present.running,
        failed: present.failed,
      };
    },
    async prefill({ pending }) {
      // No completed history exists in graphile-worker's table (completion deletes the row).
      const template = await utils.addJob('noop', { seq: -1 });
      const where = `id = ${Number(template.id)}`;
      await copyTemplateRows(
        { query: q },
        {
          table: TABLE,
          templateWhere: where,
          from: 0,
          to: pending - 1,
          overrides: {
            payload: `json_build_object('seq', g)`,
            run_at: orderedTime(pending),
            created_at: orderedTime(pending),
            updated_at: orderedTime(pending),
          },
        },
      );
      await q(`DELETE FROM ${TABLE} WHERE ${where}`);
    },
    async analyze() {
      await q(`VACUUM ANALYZE ${TABLE}`);
    },
    classify(text, name) {
      if (name?.startsWith('get_job')) return 'claim';
      if (name?.startsWith('complete_job')) return 'complete';
      if (name?.startsWith('fail_job')) return 'fail';
      if (/^\s*LISTEN/i.test(text)) return 'listen';
      if (/add_jobs?\s*\(/i.test(text)) return 'insert';
      if (/for update\s+skip locked/i.test(text) && /locked_by/i.test(text))
        return 'claim';
      if (/delete from .*_private_jobs/i.test(text)) return 'complete';
      return 'other';
    },
    async close() {
      await runner?.stop();
      await utils?.release();
    },
  };
}
