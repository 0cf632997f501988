/**
 * `nest-jobs/testing`: helpers for the tests of an app that uses nest-jobs. Works with any
 * test runner (jest, vitest, node:test): nothing here depends on one, and a failed
 * assertion is a plain JobsAssertionError.
 */
export { withManualWorker } from './manual-worker.js';
export {
  JobsTesting,
  type EnqueuedJob,
  type ExpectEnqueuedOptions,
  type JobStatusName,
  type PartialPayload,
  type WaitForJobOptions,
} from './jobs-testing.js';
export { TestClock } from './test-clock.js';
export type { PerformJobOptions, PerformJobResult } from './perform-job.js';
export type {
  DrainedAttempt,
  DrainedOutcome,
  DrainOptions,
  DrainResult,
} from '../worker/drain-options.interface.js';
export { JobsAssertionError } from '../errors/jobs-assertion.error.js';
export { ClockBackwardsError } from '../errors/clock-backwards.error.js';
export { WorkerModeError } from '../errors/worker-mode.error.js';
