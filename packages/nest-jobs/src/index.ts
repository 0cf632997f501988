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
  JobsWorkerStatus,
  type WorkerStatusSnapshot,
} from './worker/worker-status.js';
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
export { JobStatus, parseJobStatus } from './enums/job-status.enum.js';
export { JobEntity } from './entities/job.entity.js';
export {
  NEST_JOBS_MIGRATIONS,
  NestJobsCreateTable0000000000001,
  NestJobsAddRetryPolicy0000000000002,
  NestJobsAddFinishedIndex0000000000003,
  createJobsMigrations,
  type JobsMigrationClass,
} from './sql/migrations/jobs.migrations.js';
export { runWithTraceId, currentTraceId } from './tracing/trace-context.js';
export type { JobContext } from './handlers/job-context.interface.js';
export type { JobOptions } from './handlers/job-options.interface.js';
export type {
  EnqueueOptions,
  JobRequest,
} from './enqueue/enqueue-options.interface.js';
export type { JobsModuleOptions } from './jobs-module-options.interface.js';
export type { JobsRetentionOptions } from './maintenance/retention-options.interface.js';
export type { JobsWorkerOptions } from './worker/worker-options.interface.js';
export type {
  RetryJitter,
  RetryPolicy,
} from './retry/retry-policy.interface.js';
export { JobsError } from './errors/jobs.error.js';
export { InvalidJobsOptionError } from './errors/invalid-options.error.js';
export { InvalidPayloadError } from './errors/invalid-payload.error.js';
export { UnknownJobError } from './errors/unknown-job.error.js';
export { UnknownJobStatusError } from './errors/unknown-job-status.error.js';
export { JobDefinitionError } from './errors/job-definition.error.js';
export { EnqueueFailedError } from './errors/enqueue-failed.error.js';
export { JobsTableMissingError } from './errors/jobs-table-missing.error.js';
export { JobsPrivilegeError } from './errors/jobs-privilege.error.js';
export { JobsMigrationError } from './errors/jobs-migration.error.js';
export { JobsMiddlewareError } from './errors/jobs-middleware.error.js';
export {
  FatalJobError,
  JobTimeoutError,
  LeaseLostError,
  NoHandlerError,
  PayloadDecodeError,
  WorkerShutdownError,
} from './errors/job-failure.errors.js';
