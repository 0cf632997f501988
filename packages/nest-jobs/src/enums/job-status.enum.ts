import { UnknownJobStatusError } from '../errors/unknown-job-status.error.js';

/**
 * Lifecycle state of a job row; the string form is always lowercase. This is the one list of
 * states: the live statements (sql/queries) derive theirs from it. A new state also needs a
 * migration that widens the table's status CHECK (migrations keep the lists of their own
 * version); an e2e test compares this enum with the migrated table's CHECK.
 */
export enum JobStatus {
  Pending = 'pending',
  Running = 'running',
  Completed = 'completed',
  Failed = 'failed',
  /** Stopped by an operator (or by its own handler) before it completed: final. */
  Cancelled = 'cancelled',
}

/**
 * The states a job ends in: no statement moves a row out of them, and retention deletes
 * such rows once they are old enough (the finished index covers exactly these).
 */
export const FINISHED_STATUSES = [
  JobStatus.Completed,
  JobStatus.Failed,
  JobStatus.Cancelled,
] as const;

/** A state of FINISHED_STATUSES, as its enum member or its string. */
export type FinishedStatus = `${(typeof FINISHED_STATUSES)[number]}`;

/**
 * `('completed', 'failed')`: states as a parenthesised SQL list for `IN`. Splicing is safe:
 * the values are this enum's own lowercase words, never user input.
 */
export function sqlStatusList(statuses: readonly JobStatus[]): string {
  return `(${statuses.map((status) => `'${status}'`).join(', ')})`;
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
    throw new UnknownJobStatusError(value, [...STATUS_BY_STRING.keys()]);
  }
  return status;
}
