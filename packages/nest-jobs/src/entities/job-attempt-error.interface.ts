/**
 * One entry of a job's attempt history (column `attempt_errors`, a jsonb array of these,
 * oldest first, the latest 20 kept): a failed attempt, or one whose lease expired. A
 * completion, a snooze, a reschedule and a release at shutdown add nothing.
 */
export interface JobAttemptError {
  /** The attempt number (`ctx.attempt`) that failed. */
  readonly attempt: number;
  /** When it was recorded, on the database clock (ISO 8601 with offset, as jsonb renders timestamptz). */
  readonly at: string;
  /** `failed`: the handler threw, timed out or was refused; `lease-expired`: its worker stopped or lost the database. */
  readonly kind: 'failed' | 'lease-expired';
  /** What `last_error` said of it: message and stack head (with causes), at most 4,000 characters. */
  readonly error: string;
  /** The instance that ran it, `hostname:pid`; null for a lease expiry (the row does not say who held the lease). */
  readonly instance: string | null;
}
