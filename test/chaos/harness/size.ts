/**
 * Sizes of the chaos scenarios. The default run (`npm test`) uses small sizes; the chaos
 * script (`npm run chaos -- --jobs 100000`) sets CHAOS_JOBS, and every scenario scales its
 * job count (and what is tied to it: kills, rounds, transactions) by CHAOS_JOBS divided by
 * the default job count of the steady-state scenario.
 */
export const STEADY_DEFAULT_JOBS = 2_000;

export function chaosScale(): number {
  const jobs = Number(process.env.CHAOS_JOBS ?? '');
  return Number.isFinite(jobs) && jobs > 0 ? jobs / STEADY_DEFAULT_JOBS : 1;
}

/** `count` scaled by the run's scale, never below `min`. */
export function scaled(count: number, min = 1): number {
  return Math.max(min, Math.round(count * chaosScale()));
}

/** True in the default (small) run. */
export function isDefaultSize(): boolean {
  return chaosScale() === 1;
}

/** A deadline that grows with the size of the run (for liveness waits only). */
export function scaledTimeout(ms: number): number {
  return Math.round(ms * Math.max(1, chaosScale()));
}

export function random(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
