// Small numeric helpers shared by the child (latency samples) and the report (formatting).

/** Nearest-rank percentile of an ascending-sorted array; NaN when empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

export function summarize(samples) {
  const sorted = Float64Array.from(samples).sort();
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : Number.NaN,
    mean: sorted.length
      ? sorted.reduce((a, b) => a + b, 0) / sorted.length
      : Number.NaN,
  };
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns truthy or `timeoutMs` passed; returns its last value. */
export async function waitFor(check, { timeoutMs, everyMs = 20 }) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value || performance.now() >= deadline) return value;
    await sleep(everyMs);
  }
}
