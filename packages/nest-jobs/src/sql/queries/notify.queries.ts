import type { JobsTable } from '../jobs-table.js';
import { named } from './named-statement.js';

/** The sending end of LISTEN/NOTIFY: wakes the workers of the given queues. */
export const notifyQueries = (t: JobsTable) => ({
  /** $1 channel, $2 queues: one notification per queue. */
  notify: named(
    t,
    'notify',
    `SELECT pg_notify($1, queue) FROM unnest($2::text[]) AS queue`,
  ),
});
