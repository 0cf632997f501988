/** What `enqueueWithOutcome` / `enqueueManyWithOutcome` report for one job. */
export interface EnqueueOutcome {
  /** The job's id: the new job's, or, for a duplicate, the existing job's. */
  readonly id: string;
  /**
   * True when a job with the same unique key already existed in one of its unique states:
   * nothing was inserted and `id` is that job's.
   */
  readonly duplicate: boolean;
}
