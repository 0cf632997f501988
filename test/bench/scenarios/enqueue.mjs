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

  const uniquePairs =
    process.env.BENCH_UNIQUE === 'pairs' && adapter.enqueueManyUnique
      ? await interleavedUniqueBatches(adapter, sizes, bulkFirst + bulkJobs)
      : null;

  const rows = await adapter.countJobs();
  const expectedRows =
    warmRows + singleCalls + bulkJobs + (uniquePairs?.jobs ?? 0);
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
    ...(uniquePairs ? { uniquePairs } : {}),
    verify: { ok: problems.length === 0, problems },
  };
}

/**
 * BENCH_UNIQUE=pairs (issue 20): after the bulk phase, as many batches again, plain and
 * unique (`unique: { by: ['seq'] }`) in turn, the first of each pair alternating. Two
 * separate runs put minutes between the two figures, and on a shared machine the load
 * moves in between (their ratio spread from 0.4 to 1.9); batches side by side meet the
 * same load. Rates are jobs over the summed wall time of each kind's batches; the server
 * CPU cannot be split between kinds (one server), the Node CPU can.
 */
async function interleavedUniqueBatches(adapter, sizes, firstSeq) {
  let seq = firstSeq;
  const batch = sizes.enqueueBulkBatch;
  const pairs = Math.max(1, Math.floor(sizes.enqueueBulkTotal / batch));
  const kinds = {
    plain: { send: (seqs) => adapter.enqueueMany(seqs), ms: 0, nodeMs: 0 },
    unique: {
      send: (seqs) => adapter.enqueueManyUnique(seqs),
      ms: 0,
      nodeMs: 0,
    },
  };
  for (let i = 0; i < pairs; i += 1) {
    for (const kind of i % 2 ? ['unique', 'plain'] : ['plain', 'unique']) {
      const seqs = Array.from({ length: batch }, () => seq++);
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      await kinds[kind].send(seqs);
      kinds[kind].ms += performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      kinds[kind].nodeMs += (cpu.user + cpu.system) / 1000;
    }
  }
  const jobs = pairs * batch;
  const rate = (kind) => jobs / (kinds[kind].ms / 1000);
  return {
    jobs: 2 * jobs,
    batch,
    pairs,
    plainRate: rate('plain'),
    uniqueRate: rate('unique'),
    ratio: rate('unique') / rate('plain'),
    nodeMsPer1k: {
      plain: (kinds.plain.nodeMs / jobs) * 1000,
      unique: (kinds.unique.nodeMs / jobs) * 1000,
    },
  };
}
