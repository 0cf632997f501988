/**
 * How long finished jobs stay in the table before a worker deletes them, in milliseconds;
 * `false` keeps them forever. Pending and running jobs are never deleted.
 */
export interface JobsRetentionOptions {
  /** Default 7 days. */
  completedMs?: number | false;
  /** Default 30 days. */
  failedMs?: number | false;
  /** Default 30 days. */
  cancelledMs?: number | false;
}
