// Scenario "limits" (issue 22, opt-in: --only limits): cluster-wide flow control beside the
// peers that have it. Each variant of a system declares one mode (`adapter.limitMode`):
// - 'concurrency': at most `limitConcurrency` jobs of the queue running at once over
//   `limitWorkers` workers of `limitSlots` slots each (three times the limit in slots), every
//   handler holding its slot `limitConcurrencyHoldMs`. Figures: throughput (the ideal is
//   limit / hold), and the most handlers seen inside at once (exact: every worker is in this
//   process; the claim "exact, not slightly exceeded" is that it never passes the limit).
// - 'rate': at most `limitRate` starts per `limitRatePeriodMs`, the queue flooded for
//   `limitRateSeconds`. Figures: the most starts in any window of the period (sliding: for
//   each start, the starts in the period that ends with it), on the handler's clock and on
//   the system's own record of its starts where it has one, and how full the windows were:
//   the starts in consecutive periods from the first start, against the limit.
import { ledger } from '../child/ledger.mjs';
import { limitProbe } from '../child/limit-probe.mjs';
import { settledState, verifyExactlyOnce } from '../child/verify.mjs';
import { sleep } from '../lib/stats.mjs';

export async function run({ adapter, sizes }) {
  const mode = adapter.limitMode;
  if (!mode) throw new Error('this variant has no flow-control mode');
  const rate = mode === 'rate';
  const periodMs = sizes.limitRatePeriodMs;
  // A rate run is timed (the queue must stay flooded): the jobs of its windows and two more.
  const total = rate
    ? sizes.limitRate * (sizes.limitRateSeconds * (1000 / periodMs) + 2)
    : sizes.limitConcurrencyJobs;
  await adapter.init();
  ledger.reset(total);
  limitProbe.reset(rate ? sizes.limitRateHoldMs : sizes.limitConcurrencyHoldMs);
  for (let first = 0; first < total; first += 1_000)
    await adapter.enqueueLimited(
      Array.from(
        { length: Math.min(1_000, total - first) },
        (_, i) => first + i,
      ),
    );
  await adapter.analyze();

  await adapter.startWorker();
  const capMs = rate
    ? sizes.limitRateSeconds * 1000 + periodMs
    : sizes.limitCapSeconds * 1000;
  const startedAt = performance.now();
  let finished = false;
  while (performance.now() - startedAt < capMs + 10_000) {
    const since = Number.isNaN(ledger.firstStart)
      ? 0
      : performance.now() - ledger.firstStart;
    if (since > capMs) break;
    if (ledger.handled >= total && (await adapter.remaining()) === 0) {
      finished = true;
      break;
    }
    await sleep(20);
  }
  const seconds =
    ((finished ? ledger.lastStart : performance.now()) - ledger.firstStart) /
    1000;
  await adapter.stopWorker();
  const systemStarts = limitProbe.systemStarts.length
    ? limitProbe.systemStarts
    : ((await adapter.recordedStarts?.()) ?? []);
  const verify = verifyExactlyOnce(await settledState(adapter), {
    expected: total,
    mustFinish: finished,
  });
  const result = {
    mode,
    jobs: total,
    handled: ledger.handled,
    finished,
    seconds,
    rate: ledger.handled / seconds,
    verify,
  };
  if (!rate)
    return {
      ...result,
      limit: sizes.limitConcurrency,
      slots: sizes.limitWorkers * sizes.limitSlots,
      holdMs: sizes.limitConcurrencyHoldMs,
      maxConcurrent: limitProbe.maxInside,
    };
  const windows = sizes.limitRateSeconds * (1000 / periodMs);
  return {
    ...result,
    limit: sizes.limitRate,
    periodMs,
    maxInWindow: maxInSlidingWindow(limitProbe.starts, periodMs),
    maxInWindowSystem: systemStarts.length
      ? maxInSlidingWindow(systemStarts, periodMs)
      : null,
    perWindow: startsPerPeriod(limitProbe.starts, periodMs, windows),
    perWindowSystem: systemStarts.length
      ? startsPerPeriod(systemStarts, periodMs, windows)
      : null,
  };
}

/** The most starts in any period that ends with a start: (t - period, t]. */
export function maxInSlidingWindow(times, periodMs) {
  const sorted = Float64Array.from(times).sort();
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last += 1) {
    while (sorted[first] <= sorted[last] - periodMs) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

/** Starts in each of `count` consecutive periods from the first start. */
export function startsPerPeriod(times, periodMs, count) {
  const origin = Math.min(...times);
  const counts = new Array(count).fill(0);
  for (const time of times) {
    const index = Math.floor((time - origin) / periodMs);
    if (index < count) counts[index] += 1;
  }
  return counts;
}
