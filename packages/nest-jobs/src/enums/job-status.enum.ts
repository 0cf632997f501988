import { UnknownJobStatusError } from '../errors/unknown-job-status.error.js';

/** Lifecycle state of a job row; the string form is always lowercase. */
export enum JobStatus {
  Pending = 'pending',
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
}

const STATUS_BY_STRING: ReadonlyMap<string, JobStatus> = new Map(
  Object.values(JobStatus).map((status) => [status, status]),
);

/**
 * Parses a status string (exactly as stored: lowercase).
 * @throws UnknownJobStatusError naming the string when it is not a known state.
 */
export function parseJobStatus(value: string): JobStatus {
  const status = STATUS_BY_STRING.get(value);
  if (status === undefined) {
    throw new UnknownJobStatusError(value);
  }
  return status;
}
