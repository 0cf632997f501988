/** One row to insert, already validated and serialised by JobsService. */
export interface NewJobRow {
  id: string;
  queue: string;
  jobType: string;
  payloadJson: string;
  maxRetries: number;
  runAt: Date | null;
  delayMs: number | null;
  traceId: string | null;
  retryPolicyJson: string | null;
}

/** A row returned by a claim: `payload` and `retryPolicy` stay text so a bad one fails only its job. */
export interface ClaimedJobRow {
  id: string;
  queue: string;
  jobType: string;
  payload: string;
  attempt: number;
  maxRetries: number;
  retryPolicy: string | null;
  traceId: string | null;
  /** Epoch milliseconds: a number is cheaper to read than a timestamp, and few handlers ask. */
  createdAtMs: number;
}

/** Identifies one attempt: completion, failure and heartbeat only touch the attempt they claimed. */
export interface AttemptRef {
  id: string;
  attempt: number;
}

/** `id#attempt`: the key of one attempt, since one process may hold two attempts of a job. */
export function attemptKey(ref: AttemptRef): string {
  return `${ref.id}#${ref.attempt}`;
}

/** A failed attempt to record: retried after `retryInMs`, or failed for good. */
export interface FailedAttempt extends AttemptRef {
  error: string;
  /** null: failed for good. */
  retryInMs: number | null;
}

/** A running job whose lease expired, as lease recovery left it (pending again, or failed). */
export interface RecoveredJob {
  id: string;
  jobType: string;
  status: string;
  attempt: number;
}
