import type { AttemptRef } from '../sql/job-rows.js';

/**
 * The jobs channel carries two kinds of payload: a queue name (a wake-up, as every earlier
 * version sends and reads it) and a cancel message, which starts with U+0001, then
 * `cancel:<id>:<attempts>:<releases>`: the attempt whose signal must be aborted. An earlier
 * version takes a cancel message for the name of a queue it does not serve and ignores it,
 * so the wake-up format is unchanged. A queue whose name itself starts with U+0001 would be
 * woken by nothing worse than a spurious claim.
 */
export const CANCEL_MESSAGE_PREFIX = '\u0001cancel:';

/**
 * The SQL expression of a cancel message for a row aliased `job` (must match
 * CANCEL_MESSAGE_PREFIX and parseCancelMessage).
 */
export const CANCEL_MESSAGE_SQL = `chr(1) || 'cancel:' || job.id || ':' || job.attempts || ':' || job.releases`;

/** The attempt a cancel message names, or null when the payload is not one (a wake-up). */
export function parseCancelMessage(payload: string): AttemptRef | null {
  if (!payload.startsWith(CANCEL_MESSAGE_PREFIX)) return null;
  const [id, attempt, releases] = payload
    .slice(CANCEL_MESSAGE_PREFIX.length)
    .split(':');
  const ref = {
    id: id ?? '',
    attempt: Number(attempt),
    releases: Number(releases),
  };
  return ref.id !== '' &&
    Number.isInteger(ref.attempt) &&
    Number.isInteger(ref.releases)
    ? ref
    : null;
}
