import { JobStatus, parseJobStatus } from '../enums/job-status.enum.js';
import { BulkLimitError } from '../errors/bulk-limit.error.js';
import { InvalidJobFilterError } from '../errors/invalid-job-filter.error.js';
import { InvalidJobIdError } from '../errors/invalid-job-id.error.js';
import { COLUMN_LIMITS } from '../jobs.constants.js';
import { unsafeCharacter } from '../utils/postgres-text.js';

/** Which jobs a bulk operator action (JobControl#redrive, #deleteMany) applies to; every field narrows. */
export interface JobFilter {
  /** States to match (redrive: failed and/or cancelled, default failed; deleteMany: required, never running). */
  statuses?: readonly `${JobStatus}`[];
  /** Queue name, exactly. */
  queue?: string;
  /** Job name (`job_type`), exactly. */
  name?: string;
  /** Text that `last_error` contains (case-sensitive substring; no wildcards). */
  errorContains?: string;
  /** Finished at or after this time. */
  finishedAfter?: Date;
  /** Finished strictly before this time. */
  finishedBefore?: Date;
}

/** Rows a bulk action touches per statement: short transactions, bounded locks and WAL. */
export const BULK_BATCH = 1_000;
/** Rows a bulk action touches per call when `limit` is not given. */
export const DEFAULT_BULK_LIMIT = 10_000;
/** The most rows one call may touch; more is a BulkLimitError (call again instead). */
export const MAX_BULK_LIMIT = 100_000;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `id` when it is a uuid; else InvalidJobIdError, before any SQL. */
export function checkJobId(id: unknown): string {
  if (typeof id !== 'string' || !UUID.test(id)) throw new InvalidJobIdError(id);
  return id;
}

/** `limit` checked against the cap (default DEFAULT_BULK_LIMIT). */
export function checkBulkLimit(action: string, limit: unknown): number {
  if (limit === undefined) return DEFAULT_BULK_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1)
    throw new InvalidJobFilterError(
      'limit',
      `${String(limit)} is not a positive integer`,
    );
  if (limit > MAX_BULK_LIMIT)
    throw new BulkLimitError(action, limit, MAX_BULK_LIMIT);
  return limit;
}

/**
 * The filter as the bulk statements' parameters $1-$6, every value checked first: states
 * among `allowed` (`defaults` when none given), names and text within their column and free
 * of what PostgreSQL refuses, dates valid.
 */
export function filterParameters(
  filter: unknown,
  allowed: readonly JobStatus[],
  defaults: readonly JobStatus[] | null,
): unknown[] {
  if (filter === null || typeof filter !== 'object' || Array.isArray(filter))
    throw new InvalidJobFilterError('filter', 'expected an object');
  const f = filter as Record<string, unknown>;
  const known = new Set([
    'statuses',
    'queue',
    'name',
    'errorContains',
    'finishedAfter',
    'finishedBefore',
  ]);
  for (const key of Object.keys(f))
    if (!known.has(key))
      throw new InvalidJobFilterError(
        `filter.${key}`,
        `unknown field (known: ${[...known].join(', ')})`,
      );
  return [
    statuses(f.statuses, allowed, defaults),
    text('filter.queue', f.queue, COLUMN_LIMITS.nameLength),
    text('filter.name', f.name, COLUMN_LIMITS.nameLength),
    text('filter.errorContains', f.errorContains, COLUMN_LIMITS.errorLength),
    date('filter.finishedAfter', f.finishedAfter),
    date('filter.finishedBefore', f.finishedBefore),
  ];
}

function statuses(
  value: unknown,
  allowed: readonly JobStatus[],
  defaults: readonly JobStatus[] | null,
): string[] {
  if (value === undefined) {
    if (defaults) return [...defaults];
    throw new InvalidJobFilterError(
      'filter.statuses',
      `required here (any of ${allowed.join(', ')})`,
    );
  }
  if (!Array.isArray(value) || value.length === 0)
    throw new InvalidJobFilterError(
      'filter.statuses',
      'expected a non-empty array of states',
    );
  return value.map((item: unknown) => {
    const status = typeof item === 'string' ? safeParseStatus(item) : undefined;
    if (status === undefined || !allowed.includes(status))
      throw new InvalidJobFilterError(
        'filter.statuses',
        `${JSON.stringify(item)} is not allowed here (allowed: ${allowed.join(', ')})`,
      );
    return status;
  });
}

function safeParseStatus(value: string): JobStatus | undefined {
  try {
    return parseJobStatus(value);
  } catch {
    return undefined;
  }
}

function text(field: string, value: unknown, maxLength: number): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string' || value === '')
    throw new InvalidJobFilterError(field, 'expected a non-empty string');
  if (value.length > maxLength)
    throw new InvalidJobFilterError(
      field,
      `${value.length} characters, more than the ${maxLength} the column holds`,
    );
  const unsafe = unsafeCharacter(value);
  if (unsafe !== null)
    throw new InvalidJobFilterError(
      field,
      `contains ${unsafe}, which PostgreSQL cannot store`,
    );
  return value;
}

function date(field: string, value: unknown): Date | null {
  if (value === undefined) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new InvalidJobFilterError(field, 'expected a valid Date');
  return value;
}
