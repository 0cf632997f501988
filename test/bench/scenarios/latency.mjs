// Scenario 3, latency at idle: the worker waits with nothing to do; one job is enqueued, we
// wait for its handler to start, pause a little, and repeat. The figure is enqueue-return ->
// handler-start, both read with performance.now() in this one process (producer and worker
// share it, as in an application that enqueues and works). A run is capped in time: a system
// that polls every 2 s gets fewer samples, and the table says how many.
import { ledger } from '../child/ledger.mjs';
import { startRecording, stopRecording } from '../child/query-probe.mjs';
import { settledState, verifyExactlyOnce } from '../child/verify.mjs';
import { sleep, summarize, waitFor } from '../lib/stats.mjs';

const WARM_UP_JOBS = 3;
const SETTLE_MS = 1_000; // LISTEN connections and first polls are up before we measure

function startedWithin(seq, timeoutMs) {
  if (ledger.runs[seq] > 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      ledger.onRun = null;
      resolve(false);
    }, timeoutMs);
    ledger.onRun = (ran) => {
      if (ran !== seq) return;
      clearTimeout(timer);
      ledger.onRun = null;
      resolve(true);
    };
  });
}

export async function run({ adapter, sizes }) {
  const total = WARM_UP_JOBS + sizes.latencyJobs;
  await adapter.init();
  ledger.reset(total);
  await adapter.startWorker();
  await sleep(SETTLE_MS);

  let capAt = Number.POSITIVE_INFINITY; // armed after the warm-up, which a 2 s poller takes long over
  const samples = [];
  let enqueued = 0;
  let timeouts = 0;
  for (let seq = 0; seq < total && performance.now() < capAt; seq += 1) {
    // Armed before the call: the handler may start before the enqueue call returns.
    const waiter = startedWithin(
      seq,
      Math.max(1, Math.min(capAt - performance.now(), 10_000) + 5_000),
    );
    await adapter.enqueueOne(seq);
    ledger.returnedAt[seq] = performance.now();
    enqueued += 1;
    if (!(await waiter)) {
      timeouts += 1;
      break;
    }
    if (seq >= WARM_UP_JOBS)
      samples.push(ledger.startedAt[seq] - ledger.returnedAt[seq]);
    if (seq === WARM_UP_JOBS - 1) {
      capAt = performance.now() + sizes.latencyCapSeconds * 1000;
      startRecording();
    }
    await sleep(sizes.latencySpacingMs + Math.random() * 5); // jitter: no lock-step with poll timers
  }
  // Whatever is still queued gets a chance to run before the check.
  await waitFor(() => ledger.handled >= enqueued, { timeoutMs: 5_000 });
  // What each idle enqueue costs in statements (claims, NOTIFY), over the measured jobs.
  const statements = stopRecording();
  await adapter.stopWorker();
  const verify = verifyExactlyOnce(await settledState(adapter), {
    expected: enqueued,
    mustFinish: false,
  });
  return {
    latencyMs: summarize(samples),
    beforeReturn: samples.filter((ms) => ms < 0).length,
    enqueued,
    timeouts,
    statements,
    verify,
  };
}
