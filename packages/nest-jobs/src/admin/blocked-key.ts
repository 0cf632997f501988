/**
 * An ordering key held by a job that failed for good (queue policy `onFailedJob: 'block'`):
 * its later jobs wait until that job is retried or deleted.
 */
export interface BlockedKey {
  readonly queue: string;
  readonly orderingKey: string;
  /** The key's first job that failed for good: retry or delete it to release the key. */
  readonly failedJobId: string;
  /** When that job failed for good (null if the row says nothing). */
  readonly failedAt: Date | null;
  /** Pending jobs of the key waiting behind it. */
  readonly waiting: number;
}
