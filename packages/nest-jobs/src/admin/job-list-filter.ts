import { JobStatus } from '../enums/job-status.enum.js';
import { InvalidJobsOptionError } from '../errors/invalid-options.error.js';
import {
  checkInteger,
  checkName,
  checkPlainObject,
  optionKeys,
} from '../utils/option-checks.js';
import type { JobListFilter } from './job-view.js';

/** Rows per page when the filter gives no limit, and the most a page may hold. */
export const PAGE_LIMITS = { default: 50, max: 500 } as const;

/** A filter checked and ready for the list statement (null: not filtered). */
export interface CheckedJobListFilter {
  readonly status: JobStatus | null;
  readonly queue: string | null;
  readonly name: string | null;
  readonly createdFrom: Date | null;
  readonly createdBefore: Date | null;
  readonly limit: number;
  /** The id the page starts after. */
  readonly afterId: string | null;
}

const FILTER_KEYS = optionKeys<JobListFilter>({
  status: true,
  queue: true,
  name: true,
  createdFrom: true,
  createdBefore: true,
  limit: true,
  cursor: true,
});

const STATUSES: readonly string[] = Object.values(JobStatus);

/** Lowercase canonical UUID text, as PostgreSQL prints it. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Checks a job id before it reaches SQL: a uuid, as the column holds. */
export function checkJobId(option: string, value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value.toLowerCase()))
    throw new InvalidJobsOptionError(
      option,
      value,
      'expected a job id (a uuid)',
    );
  return value.toLowerCase();
}

/** The cursor of the page after the one that ended with `lastId` (opaque to callers). */
export function encodeCursor(lastId: string): string {
  return Buffer.from(`v1:${lastId}`).toString('base64url');
}

function decodeCursor(value: unknown): string {
  const text =
    typeof value === 'string' && value.length <= 64
      ? Buffer.from(value, 'base64url').toString()
      : '';
  if (!text.startsWith('v1:') || !UUID.test(text.slice(3)))
    throw new InvalidJobsOptionError(
      'filter.cursor',
      value,
      'expected the nextCursor of a previous page',
    );
  return text.slice(3);
}

function checkDate(option: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new InvalidJobsOptionError(option, value, 'expected a valid Date');
  return value;
}

/** Checks every field of `filter` (unknown keys refused) before any SQL is sent. */
export function checkJobListFilter(filter: unknown): CheckedJobListFilter {
  const raw = (
    filter === undefined ? {} : checkPlainObject('filter', filter, FILTER_KEYS)
  ) as Record<string, unknown>;
  const given = (key: string) => raw[key] !== undefined;
  if (given('status') && !STATUSES.includes(raw.status as string))
    throw new InvalidJobsOptionError(
      'filter.status',
      raw.status,
      `expected one of ${STATUSES.join(', ')}`,
    );
  const checked: CheckedJobListFilter = {
    status: given('status') ? (raw.status as JobStatus) : null,
    queue: given('queue') ? checkName('filter.queue', raw.queue) : null,
    name: given('name') ? checkName('filter.name', raw.name) : null,
    createdFrom: given('createdFrom')
      ? checkDate('filter.createdFrom', raw.createdFrom)
      : null,
    createdBefore: given('createdBefore')
      ? checkDate('filter.createdBefore', raw.createdBefore)
      : null,
    limit: given('limit')
      ? checkInteger('filter.limit', raw.limit, 1, PAGE_LIMITS.max)
      : PAGE_LIMITS.default,
    afterId: given('cursor') ? decodeCursor(raw.cursor) : null,
  };
  return checked;
}
