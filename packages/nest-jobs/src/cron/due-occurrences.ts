import type { CronExpression } from './cron-expression.js';
import type { MissedPolicy } from './schedule-options.interface.js';

/**
 * Most occurrences one tick walks through for one schedule (croner takes some 0.2 ms per
 * occurrence, while the tick holds the schedule's lock). A per-second schedule whose
 * instances were all down for a day has 86,400 missed occurrences: past this bound only the
 * ones the policy may enqueue are found (counting back from now), and the rest are skipped
 * without being listed one by one.
 */
export const MAX_OCCURRENCES_PER_TICK = 1_000;

/** What a schedule's tick does, from its stored next run and the database's now. */
export interface DuePlan {
  /** Occurrences to enqueue (epoch ms, oldest first). */
  readonly enqueue: readonly number[];
  /** Occurrences skipped by the missed policy (epoch ms, oldest first). */
  readonly skipped: readonly number[];
  /** True when more occurrences were missed than MAX_OCCURRENCES_PER_TICK: those are skipped unlisted. */
  readonly skippedUnlisted: boolean;
  /** The first occurrence after `nowMs`: the schedule's new next run (null: none ever). */
  readonly nextRunMs: number | null;
}

/** The policy inputs of one schedule. */
export interface DuePolicy {
  readonly missed: MissedPolicy;
  /** For `missed: 'all'`: the most missed occurrences enqueued (the latest ones). */
  readonly missedLimit: number;
  /** An occurrence at most this old at the tick is on time (enqueued under every policy). */
  readonly graceMs: number;
}

/**
 * The occurrences from `nextRunMs` (the first not yet enqueued) to `nowMs` inclusive, split
 * by the policy: on-time ones (within `graceMs` of now) are always enqueued; of the missed
 * ones, `skip` enqueues none, `latest` the latest one when nothing is on time, `all` the
 * latest `missedLimit`. Pure: a function of the expression, the two instants and the policy.
 */
export function planDueOccurrences(
  expression: CronExpression,
  nextRunMs: number,
  nowMs: number,
  policy: DuePolicy,
): DuePlan {
  const due: number[] = [];
  let at: number | null = nextRunMs;
  while (at !== null && at <= nowMs && due.length < MAX_OCCURRENCES_PER_TICK) {
    due.push(at);
    at = expression.next(at);
  }
  const skippedUnlisted = at !== null && at <= nowMs;
  if (skippedUnlisted) {
    // Too many to walk: keep what the policy could enqueue, found backwards from now.
    const graceStart = nowMs - policy.graceMs;
    const wanted = policy.missed === 'all' ? policy.missedLimit : 1;
    due.length = 0;
    due.push(...expression.previous(graceStart, wanted));
    for (
      let t = expression.next(graceStart - 1);
      t !== null &&
      t <= nowMs &&
      due.length < wanted + MAX_OCCURRENCES_PER_TICK;
      t = expression.next(t)
    )
      due.push(t);
    at = expression.next(nowMs);
  }
  const firstOnTime = due.findIndex((t) => t >= nowMs - policy.graceMs);
  const onTime = firstOnTime === -1 ? [] : due.slice(firstOnTime);
  const missed = firstOnTime === -1 ? due : due.slice(0, firstOnTime);
  const kept =
    policy.missed === 'all'
      ? missed.slice(Math.max(0, missed.length - policy.missedLimit))
      : policy.missed === 'latest' && onTime.length === 0
        ? missed.slice(-1)
        : [];
  return {
    enqueue: [...kept, ...onTime],
    skipped: missed.slice(0, missed.length - kept.length),
    skippedUnlisted,
    nextRunMs: at,
  };
}
