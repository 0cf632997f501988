import { setTimeout as sleep } from 'node:timers/promises';

/** How the computation paces itself and reports progress. */
export interface PrimeCountOptions {
  /** The range is worked in this many chunks. */
  steps: number;
  /** Pause after each chunk, so that progress is visible from outside (this is a demo). */
  pauseMs: number;
  /** Aborts the computation between chunks and during pauses; throws `signal.reason`. */
  signal: AbortSignal;
  /** Called after each chunk but the last, with the percentage done. */
  onProgress: (percent: number) => Promise<unknown>;
}

/** Counts the primes in 2..upTo by trial division, chunk by chunk. */
export async function countPrimes(
  upTo: number,
  options: PrimeCountOptions,
): Promise<{ primes: number; largestPrime: number | null }> {
  let primes = 0;
  let largestPrime: number | null = null;
  const chunk = Math.ceil(Math.max(upTo - 1, 0) / options.steps);
  for (let step = 0; step < options.steps; step += 1) {
    options.signal.throwIfAborted();
    const last = Math.min(upTo, 1 + (step + 1) * chunk);
    for (let n = 2 + step * chunk; n <= last; n += 1) {
      if (isPrime(n)) {
        primes += 1;
        largestPrime = n;
      }
    }
    if (step + 1 < options.steps) {
      await options.onProgress(Math.round(((step + 1) / options.steps) * 100));
    }
    await pause(options.pauseMs, options.signal);
  }
  return { primes, largestPrime };
}

function isPrime(n: number): boolean {
  if (n < 4) return n >= 2;
  if (n % 2 === 0) return false;
  for (let divisor = 3; divisor * divisor <= n; divisor += 2) {
    if (n % divisor === 0) return false;
  }
  return true;
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, { signal });
  } catch (error) {
    // Surface why the job was aborted (timeout, shutdown, lost lease), not a bare AbortError.
    signal.throwIfAborted();
    throw error;
  }
}
