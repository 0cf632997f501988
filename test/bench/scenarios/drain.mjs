// Scenario 2, drain (and the figures of scenario 6, CPU and RSS): N no-op jobs are loaded with
// the system's bulk API while no worker runs, then a worker starts and we time until every
// job is completed in the database. The clock starts at the first handler call, so connection
// set-up and framework boot are left out for every system alike; the end is when the table
// shows nothing pending or running. A system that cannot finish within the cap is reported
// with the rate it reached.
import { ledger } from '../child/ledger.mjs';
import { startRecording, stopRecording } from '../child/query-probe.mjs';
import { settledState, verifyExactlyOnce } from '../child/verify.mjs';
import {
  cpuBetween,
  cpuMark,
  peakRssMb,
  resetPeakRss,
} from '../lib/proc-stats.mjs';
import { sleep } from '../lib/stats.mjs';

export async function loadJobs(adapter, count, batch = 1_000) {
  for (let first = 0; first < count; first += batch) {
    const size = Math.min(batch, count - first);
    await adapter.enqueueMany(
      Array.from({ length: size }, (_, i) => first + i),
    );
  }
}

export async function run({ adapter, sizes, pgPid }) {
  const jobs = sizes.drainJobs;
  await adapter.init();
  ledger.reset(jobs);
  await loadJobs(adapter, jobs);
  // Autovacuum is off on the benchmark server; analyse like it would after a bulk load.
  await adapter.analyze();

  let startMark = null;
  ledger.onRun = () => {
    startMark = cpuMark(pgPid); // synchronous: the first job pays a few /proc reads, once
    ledger.onRun = null;
  };
  resetPeakRss();
  startRecording();
  const requested = performance.now();
  await adapter.startWorker();
  const capAt = requested + sizes.drainCapSeconds * 1000;

  let finished = false;
  while (performance.now() < capAt) {
    if (ledger.handled >= jobs && (await adapter.remaining()) === 0) {
      finished = true;
      break;
    }
    // Counting rows costs the server too: only poll it once every handler has run.
    await sleep(ledger.handled >= jobs ? 10 : 20);
  }
  const endMark = cpuMark(pgPid);
  // At the cap, what counts is what the table shows completed, not what handlers ran.
  const completed = finished ? jobs : jobs - (await adapter.remaining());
  const statements = stopRecording();
  const peakRss = peakRssMb();
  const handled = ledger.handled;
  const firstStart = ledger.firstStart;

  await adapter.stopWorker();
  const verify = verifyExactlyOnce(await settledState(adapter), {
    expected: jobs,
    mustFinish: finished,
  });
  const cpu = startMark ? cpuBetween(startMark, endMark) : null;
  return {
    jobs,
    handled,
    completed,
    finished,
    startupMs: firstStart - requested,
    seconds: cpu ? cpu.wallSeconds : Number.NaN,
    rate: cpu ? completed / cpu.wallSeconds : 0,
    cpu,
    peakRssMb: peakRss,
    statements,
    verify,
  };
}
