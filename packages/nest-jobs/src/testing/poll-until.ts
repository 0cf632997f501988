import { sleep } from '../utils/sleep.js';

/** Between two reads of the table while waiting. */
const POLL_MS = 20;

/**
 * Reads until `read` finds something or `timeoutMs` has passed, then throws what `timedOut`
 * builds. Polling the table rather than listening for events: whatever process runs the job,
 * and whenever it ran, the row says so, so nothing that happened before the wait is missed.
 */
export async function pollUntil<T>(
  read: () => Promise<T | undefined>,
  timeoutMs: number,
  timedOut: () => Promise<Error>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await read();
    if (found !== undefined) return found;
    if (Date.now() >= deadline) throw await timedOut();
    await sleep(POLL_MS);
  }
}
