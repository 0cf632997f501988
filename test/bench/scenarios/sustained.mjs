// Scenario 4, sustained load: producers offer jobs at a fixed rate (open loop: a slow enqueue
// does not slow the schedule, up to a cap of calls in flight, like a pool of request handlers)
// while the worker runs. Reported: completed/s during the window, backlog when it ends, and
// end-to-end latency (enqueue call start -> handler start) of every job, including those that
// only ran during the tail after the producers stopped.
import { ledger } from '../child/ledger.mjs';
import { startRecording, stopRecording } from '../child/query-probe.mjs';
import { settledState, verifyExactlyOnce } from '../child/verify.mjs';
import { cpuBetween, cpuMark } from '../lib/proc-stats.mjs';
import { sleep, summarize, waitFor } from '../lib/stats.mjs';

const TICK_MS = 5;

export async function run({ adapter, sizes, pgPid, extra }) {
  const rate = extra.rate ?? sizes.sustainedRate;
  const seconds = sizes.sustainedSeconds;
  // 0: no cap on enqueue calls in flight (the same for every system).
  const maxInFlight = sizes.sustainedMaxInFlight || Number.POSITIVE_INFINITY;
  const capacity = Math.ceil(rate * seconds * 1.05) + 100;
  await adapter.init();
  ledger.reset(capacity);
  await adapter.startWorker();
  await sleep(1_000);

  let issued = 0;
  let inFlight = 0;
  let skipped = 0; // calls the schedule wanted but the in-flight cap refused
  let errors = 0;
  startRecording();
  const start = performance.now();
  const startMark = cpuMark(pgPid);
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    const due = Math.min(
      capacity,
      Math.floor(((performance.now() - start) / 1000) * rate),
    );
    while (issued + skipped < due) {
      if (inFlight >= maxInFlight) {
        skipped += 1;
        continue;
      }
      const seq = issued++;
      inFlight += 1;
      ledger.enqueuedAt[seq] = performance.now();
      adapter.enqueueOne(seq).then(
        () => {
          ledger.returnedAt[seq] = performance.now();
          inFlight -= 1;
        },
        (error) => {
          errors += 1;
          inFlight -= 1;
          if (errors === 1)
            console.error(`[sustained] enqueue failed: ${error.message}`);
        },
      );
    }
    await sleep(TICK_MS);
  }
  const windowSeconds = (performance.now() - start) / 1000;
  const endMark = cpuMark(pgPid);
  const statements = stopRecording();
  const handledInWindow = ledger.handled;
  await waitFor(() => inFlight === 0, { timeoutMs: 10_000 });
  const accepted = issued - errors;
  const backlog = accepted - handledInWindow;

  await waitFor(() => ledger.handled >= accepted, {
    timeoutMs: sizes.sustainedTailSeconds * 1000,
    everyMs: 50,
  });
  const e2e = [];
  for (let seq = 0; seq < issued; seq += 1) {
    if (ledger.runs[seq] > 0)
      e2e.push(ledger.startedAt[seq] - ledger.enqueuedAt[seq]);
  }
  const neverRan = accepted - ledger.handled;
  await adapter.stopWorker();
  const verify = verifyExactlyOnce(await settledState(adapter), {
    expected: accepted,
    mustFinish: false,
  });
  return {
    offeredRate: rate,
    achievedEnqueueRate: accepted / windowSeconds,
    skipped,
    errors,
    completedRate: handledInWindow / windowSeconds,
    backlog,
    neverRan,
    e2eMs: summarize(e2e),
    cpu: cpuBetween(startMark, endMark),
    statements,
    verify,
  };
}
