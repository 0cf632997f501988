/** Module option `schedules`: how this instance fires recurring jobs (`false`: never). */
export interface JobsSchedulesOptions {
  /**
   * Milliseconds between two ticks of this instance (each claims the due schedules with
   * SKIP LOCKED): an occurrence is enqueued at most this late. Default 1,000.
   */
  pollIntervalMs?: number;
  /** Schedules one tick claims at most (it ticks again at once when it claimed that many). Default 100. */
  batchSize?: number;
}
