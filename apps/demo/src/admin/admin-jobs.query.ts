import type { JobListFilter } from 'nest-jobs';

/** The query string of GET /admin/jobs, as strings (JobsReader checks every value). */
export interface AdminJobsQuery {
  status?: string;
  queue?: string;
  name?: string;
  createdFrom?: string;
  createdBefore?: string;
  limit?: string;
  cursor?: string;
}

/**
 * Turns the query string into JobsReader's filter: numbers and dates converted, nothing else
 * interpreted; a value that does not convert reaches the reader as is, which refuses it with
 * InvalidJobsOptionError naming the field (a 400). Unknown parameters are passed on too, and
 * refused the same way.
 */
export function toJobListFilter(query: Record<string, unknown>): JobListFilter {
  const filter: Record<string, unknown> = { ...query };
  if (typeof query.limit === 'string' && /^\d+$/.test(query.limit))
    filter.limit = Number(query.limit);
  for (const key of ['createdFrom', 'createdBefore'])
    if (typeof query[key] === 'string') filter[key] = new Date(query[key]);
  return filter as JobListFilter;
}
