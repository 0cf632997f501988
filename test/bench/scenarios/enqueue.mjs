// Scenario 1, enqueue: one job per call from concurrent callers (like HTTP handlers, each
// awaiting its own enqueue), then bulk batches from one caller. No worker runs. The table is
// counted afterwards: every call must have left exactly one row.
import { cpuBetween, cpuMark } from '../lib/proc-stats.mjs';
import { summarize } from '../lib/stats.mjs';
import { startRecording, stopRecording } from '../child/query-probe.mjs';

const WARM_UP_CALLS = 200; // prepares statements and fills pools before anything is timed

export async function run({ adapter, sizes, pgPid }) {
  await adapter.init();
  let seq = -1_000_000; // warm-up rows get their own negative range
  for (let i = 0; i < WARM_UP_CALLS; i += 8) {
    await Promise.all(
      Array.from({ length: 8 }, () => adapter.enqueueOne(seq++)),
    );
  }
  await adapter.enqueueMany([seq++, seq++]);
  const warmRows = WARM_UP_CALLS + 2;

  // Single: `callers` loops, each awaiting its previous call, until the deadline.
  seq = 0;
  const latencies = [];
  startRecording();
  const singleStart = cpuMark(pgPid);
  const deadline = performance.now() + sizes.enqueueSingleSeconds * 1000;
  await Promise.all(
    Array.from({ length: sizes.enqueueCallers }, async () => {
      while (performance.now() < deadline) {
        const mine = seq++;
        const t0 = performance.now();
        await adapter.enqueueOne(mine);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const singleEnd = cpuMark(pgPid);
  const singleStatements = stopRecording();
  const singleCalls = seq;

  // Bulk: batches from one caller, back to back.
  const bulkFirst = seq;
  startRecording();
  const bulkStart = cpuMark(pgPid);
  for (
    let done = 0;
    done < sizes.enqueueBulkTotal;
    done += sizes.enqueueBulkBatch
  ) {
    const size = Math.min(
      sizes.enqueueBulkBatch,
      sizes.enqueueBulkTotal - done,
    );
    const batch = Array.from({ length: size }, (_, i) => bulkFirst + done + i);
    await adapter.enqueueMany(batch);
  }
  const bulkEnd = cpuMark(pgPid);
  const bulkStatements = stopRecording();
  const bulkJobs = sizes.enqueueBulkTotal;

  const rows = await adapter.countJobs();
  const expectedRows = warmRows + singleCalls + bulkJobs;
  const problems =
    rows === expectedRows
      ? []
      : [
          `table holds ${rows} jobs, expected ${expectedRows} (one per enqueued job)`,
        ];
  const single = cpuBetween(singleStart, singleEnd);
  const bulk = cpuBetween(bulkStart, bulkEnd);
  return {
    single: {
      calls: singleCalls,
      seconds: single.wallSeconds,
      rate: singleCalls / single.wallSeconds,
      latencyMs: summarize(latencies),
      cpu: single,
      statements: singleStatements,
    },
    bulk: {
      jobs: bulkJobs,
      batch: sizes.enqueueBulkBatch,
      seconds: bulk.wallSeconds,
      rate: bulkJobs / bulk.wallSeconds,
      cpu: bulk,
      statements: bulkStatements,
    },
    verify: { ok: problems.length === 0, problems },
  };
}
