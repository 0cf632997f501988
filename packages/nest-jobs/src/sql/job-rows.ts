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
  /** Claimed before lower ones (0: the column default). */
  priority: number;
  /** unique_key (unique/unique-key.ts), or null for a job that is not unique. */
  uniqueKey: string | null;
  /** unique_states: bits of the states that refuse a duplicate (null when not unique). */
  uniqueStates: number | null;
  /** A binary payload (payloadJson is then `null`), or null for a JSON payload. */
  payloadBytes: Uint8Array | null;
  /** ordering_key: the key of a job of an ordered or key-limited queue, or null. */
  orderingKey: string | null;
  /** Whether the key orders the job (it takes a place in its key's order, order_seq). */
  keySequenced: boolean;
}

/**
 * What an insert learned of duplicates: for each row (same order), the id of the existing
 * job it duplicated, or undefined where the row was inserted. Undefined as a whole when no
 * row was unique, so plain inserts allocate nothing.
 */
export type ExistingIds = ReadonlyArray<string | undefined> | undefined;

/** A row returned by a claim: `payload` and `retryPolicy` stay text so a bad one fails only its job. */
export interface ClaimedJobRow {
  id: string;
  queue: string;
  jobType: string;
  payload: string;
  attempt: number;
  /** The row's `releases` at the claim: with `attempt`, the fence of this attempt's writes. */
  releases: number;
  maxRetries: number;
  retryPolicy: string | null;
  traceId: string | null;
  /** Epoch milliseconds: a number is cheaper to read than a timestamp, and few handlers ask. */
  createdAtMs: number;
  /** JSON text of the latest `ctx.checkpoint` an earlier attempt stored, or null. */
  checkpoint: string | null;
  /** The payload of a job enqueued with binary data (`payload` is then JSON null), or null. */
  payloadBytes: Buffer | null;
  /** Its ordering key: returned by the claim of ordered queues only. */
  orderingKey?: string;
  /**
   * Milliseconds the claim statement had run on the server when it returned this row (the
   * last row's: the statement's time before its commit); what ClaimSizer sizes claims by.
   */
  statementMs?: number;
}

/**
 * Identifies one attempt: completion, failure, heartbeat and release only touch the attempt
 * they claimed. The pair (attempt, releases) never comes back once the attempt has lost its
 * claim: a claim raises `attempts`, and the release at shutdown, the one statement that
 * lowers `attempts` again, raises `releases` (see the release statement).
 */
export interface AttemptRef {
  id: string;
  attempt: number;
  releases: number;
}

/** `id#attempt#releases`: the key of one attempt, since one process may hold two attempts of a job. */
export function attemptKey(ref: AttemptRef): string {
  return `${ref.id}#${ref.attempt}#${ref.releases}`;
}

/** A failed attempt to record: retried after `retryInMs`, or failed for good. */
export interface FailedAttempt extends AttemptRef {
  error: string;
  /** null: failed for good. */
  retryInMs: number | null;
}

/**
 * An attempt whose handler asked to run the job again (SnoozeJob, RescheduleJob): back to
 * pending at `runAt`, or `delayMs` from now on the database clock.
 */
export interface RequeuedAttempt extends AttemptRef {
  runAt: Date | null;
  delayMs: number | null;
  /**
   * true (reschedule): a fresh job, `attempts` back to 0. false (snooze): the attempt does
   * not count, `attempts` back to what it was before the claim.
   */
  fresh: boolean;
}

/** A running job whose lease expired, as lease recovery left it (pending again, or failed). */
export interface RecoveredJob {
  id: string;
  jobType: string;
  status: string;
  attempt: number;
}
