export { JobsModule } from './jobs.module.js';
export type { JobsModuleExtras } from './jobs.module-definition.js';
export { JOBS_MODULE_OPTIONS } from './jobs.constants.js';
export {
  JobsService,
  type JobMethodKeys,
  type JobPayload,
  type NonJsonPayload,
} from './jobs.service.js';
export { JobsWorker, type WorkerState } from './worker/jobs.worker.js';
export {
  JobControl,
  type JobControlOptions,
  type BulkJobControlOptions,
} from './admin/job-control.js';
export type { JobFilter } from './admin/job-filter.js';
export {
  JobsWorkerStatus,
  type WorkerStatusSnapshot,
} from './worker/worker-status.js';
export {
  JobsQueueControl,
  type PausedQueue,
  type QueueControlOptions,
} from './queues/queue-control.js';
export { JobsReader } from './admin/jobs-reader.js';
export type { BlockedKey } from './admin/blocked-key.js';
export type {
  FailedJobKeyPolicy,
  QueuePolicy,
} from './queues/queue-policy.interface.js';
export type {
  JobCount,
  JobCounts,
  JobListFilter,
  JobPage,
  JobView,
  QueueStats,
} from './admin/job-view.js';
export { JobsEvents } from './events/jobs-events.js';
export type {
  EnqueuedJobInfo,
  JobAttemptInfo,
  JobFailureReason,
  JobsEventListener,
  JobsEventMap,
  JobsEventName,
} from './events/jobs-events.interface.js';
export {
  JobsMiddleware,
  type JobsMiddlewareOptions,
} from './events/jobs-middleware.js';
export { Job } from './handlers/job.decorator.js';
export { Recurring } from './cron/recurring.decorator.js';
export { JobsSchedules } from './cron/jobs-schedules.js';
export type { ScheduleView } from './cron/schedule-view.js';
export type {
  MissedPolicy,
  NewSchedule,
  OverlapPolicy,
  RecurringOptions,
  ScheduleChanges,
  ScheduleOptions,
} from './cron/schedule-options.interface.js';
export type { JobsSchedulesOptions } from './cron/schedules-options.interface.js';
export { JobStatus, parseJobStatus } from './enums/job-status.enum.js';
export { JobEntity } from './entities/job.entity.js';
export type { JobAttemptError } from './entities/job-attempt-error.interface.js';
export {
  NEST_JOBS_MIGRATIONS,
  NestJobsCreateTable0000000000001,
  NestJobsAddRetryPolicy0000000000002,
  NestJobsAddFinishedIndex0000000000003,
  createJobsMigrations,
  type JobsMigrationClass,
} from './sql/migrations/jobs.migrations.js';
export { runWithTraceId, currentTraceId } from './tracing/trace-context.js';
export type {
  JobContext,
  TransactionalJobContext,
  CompleteOptions,
  CheckpointOptions,
} from './handlers/job-context.interface.js';
export type { JobOptions } from './handlers/job-options.interface.js';
export type {
  EnqueueOptions,
  JobRequest,
} from './enqueue/enqueue-options.interface.js';
export type { EnqueueOutcome } from './enqueue/enqueue-outcome.interface.js';
export type {
  UniqueOptions,
  UniqueState,
} from './unique/unique-options.interface.js';
export type { JobsModuleOptions } from './jobs-module-options.interface.js';
export type { JobsRetentionOptions } from './maintenance/retention-options.interface.js';
export type { JobsWorkerOptions } from './worker/worker-options.interface.js';
export type { JobsDatabaseOptions } from './connections/database-options.interface.js';
export type {
  RetryJitter,
  RetryPolicy,
} from './retry/retry-policy.interface.js';
export { JobsError } from './errors/jobs.error.js';
export { InvalidScheduleError } from './errors/invalid-schedule.error.js';
export { DuplicateScheduleError } from './errors/duplicate-schedule.error.js';
export { ScheduleNotFoundError } from './errors/schedule-not-found.error.js';
export { JobNotFoundError } from './errors/job-not-found.error.js';
export { JobStateError } from './errors/job-state.error.js';
export { UniqueKeyHeldError } from './errors/unique-key-held.error.js';
export { InvalidJobIdError } from './errors/invalid-job-id.error.js';
export { InvalidJobFilterError } from './errors/invalid-job-filter.error.js';
export { BulkLimitError } from './errors/bulk-limit.error.js';
export { JobCancelledError } from './errors/job-cancelled.error.js';
export { InvalidJobsOptionError } from './errors/invalid-options.error.js';
export { InvalidPayloadError } from './errors/invalid-payload.error.js';
export { UnknownJobError } from './errors/unknown-job.error.js';
export { UnknownJobStatusError } from './errors/unknown-job-status.error.js';
export { JobDefinitionError } from './errors/job-definition.error.js';
export { EnqueueFailedError } from './errors/enqueue-failed.error.js';
export { DatabaseTimeoutError } from './errors/database-timeout.error.js';
export { JobsTableMissingError } from './errors/jobs-table-missing.error.js';
export { JobsPrivilegeError } from './errors/jobs-privilege.error.js';
export { JobsMigrationError } from './errors/jobs-migration.error.js';
export { JobsMiddlewareError } from './errors/jobs-middleware.error.js';
export { TransactionPoolerError } from './errors/transaction-pooler.error.js';
export { JobOutcomeRequest } from './errors/job-outcome-request.js';
export { SnoozeJob } from './errors/snooze-job.outcome.js';
export { RescheduleJob } from './errors/reschedule-job.outcome.js';
export { RetryJobAfter } from './errors/retry-job-after.outcome.js';
export { InvalidJobOutcomeError } from './errors/invalid-job-outcome.error.js';
export { InvalidProgressError } from './errors/invalid-progress.error.js';
export { InvalidCheckpointError } from './errors/invalid-checkpoint.error.js';
export { InvalidJobTransactionError } from './errors/invalid-job-transaction.error.js';
export { AttemptNotHeldError } from './errors/attempt-not-held.error.js';
export { TransactionNotCommittedError } from './errors/transaction-not-committed.error.js';
export {
  FatalJobError,
  JobTimeoutError,
  LeaseLostError,
  NoHandlerError,
  PayloadDecodeError,
  WorkerShutdownError,
} from './errors/job-failure.errors.js';
