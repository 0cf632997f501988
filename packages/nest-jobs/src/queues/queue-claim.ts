import type { ClaimedJobRow } from '../sql/job-rows.js';
import type {
  JobsRepository,
  KeyLimitedClaim,
  OrderedClaim,
} from '../sql/jobs.repository.js';
import type { ResolvedQueuePolicies } from './queue-policies.options.js';

/** Claims up to `limit` due jobs of `queue` (the ClaimScheduler's `claim` hook). */
export type QueueClaim = (
  queue: string,
  limit: number,
) => Promise<readonly ClaimedJobRow[]>;

/**
 * The claim each queue's policy calls for, chosen per claim by a map lookup: a queue with a
 * cluster-wide limit (of the queue or per key, running or starts) claims under its lock
 * (claimCapped), an ordered queue without one claims one job per key (claimOrdered), a
 * keyed queue without one (`fair`) walks its keys round robin (claimFair), every other
 * queue claims with the plain statement it always had, and with no policy at all the plain
 * claim is all there is.
 */
export function queueClaim(
  repository: JobsRepository,
  policies: ResolvedQueuePolicies,
  leaseMs: number,
  /**
   * Asks for a claim of every queue in `delayMs`: the rate of `queue` (or of one of its
   * keys) allowed no more starts, and its window reopens then.
   */
  wakeAfter: (delayMs: number, queue: string) => void = () => undefined,
): QueueClaim {
  const { ordered, concurrency, keyConcurrency, rateLimit, keyRateLimit } =
    policies;
  const { keyed } = policies;
  if (
    ordered.size === 0 &&
    concurrency.size === 0 &&
    keyed.size === 0 &&
    rateLimit.size === 0 &&
    keyRateLimit.size === 0
  )
    return (queue, limit) => repository.claim(queue, limit, leaseMs);
  // Per keyed queue, the key this worker's next claim starts after (round robin).
  const cursors = new Map<string, string>();
  return async (queue, limit) => {
    const delivery = ordered.get(queue);
    const perKey = keyConcurrency.get(queue);
    const cap = concurrency.get(queue);
    const rate = rateLimit.get(queue);
    const keyRate = keyRateLimit.get(queue);
    const afterKey = cursors.get(queue) ?? '';
    const weights = policies.weights.get(queue);
    // With weights, the next claim goes on from where this one's round stopped.
    const lastWalk = weights
      ? { rows: [] as readonly ClaimedJobRow[] }
      : undefined;
    const keys: OrderedClaim | KeyLimitedClaim | null = delivery
      ? { blockOnFailure: delivery.blockOnFailure, afterKey }
      : keyed.has(queue)
        ? { perKey, afterKey, weights, lastWalk }
        : null;
    const rows =
      cap !== undefined ||
      perKey !== undefined ||
      rate !== undefined ||
      keyRate !== undefined
        ? await repository.claimCapped(
            queue,
            limit,
            leaseMs,
            {
              cap,
              rate,
              keyRate,
              onRateLimited: (delayMs) => wakeAfter(delayMs, queue),
            },
            keys,
          )
        : keys === null
          ? await repository.claim(queue, limit, leaseMs)
          : 'perKey' in keys
            ? await repository.claimFair(queue, limit, leaseMs, keys)
            : await repository.claimOrdered(queue, limit, leaseMs, keys);
    if (keys && rows.length > 0)
      cursors.set(queue, lastKeyWalked(lastWalk?.rows ?? rows, afterKey));
    return rows;
  };
}

/**
 * The last key a claim that started after `after` took, in its walk's order: the largest
 * key after `after`, or, when the walk wrapped around, the largest of the others. Keys are
 * compared as the column does (`COLLATE "C"`: UTF-8 bytes).
 */
export function lastKeyWalked(
  rows: readonly ClaimedJobRow[],
  after: string,
): string {
  const above = (a: string, b: string) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)) > 0;
  let beyond: string | undefined;
  let wrapped: string | undefined;
  for (const { orderingKey: key } of rows) {
    if (key === undefined) continue;
    if (above(key, after)) {
      if (beyond === undefined || above(key, beyond)) beyond = key;
    } else if (wrapped === undefined || above(key, wrapped)) wrapped = key;
  }
  return wrapped ?? beyond ?? after;
}
