import {
  FINISHED_STATUSES,
  type FinishedStatus,
} from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { named, type NamedStatement } from './named-statement.js';

/** Retention: finished rows deleted once they are older than their status's retention. */
export const jobRetentionQueries = (t: JobsTable) => ({
  /**
   * By finished status: $1 age in ms, $2 limit: deletes rows of that status older than the
   * retention. The status is written out, so that a generic plan can prove the predicate of
   * the partial index on finished_at covering it (completed and failed: the finished index
   * of version 3; cancelled: its own, added with the state).
   */
  deleteFinished: Object.fromEntries(
    FINISHED_STATUSES.map((status) => [
      status,
      named(
        t,
        `delete_${status}`,
        `DELETE FROM ${t.qualified}
         WHERE id = ANY(ARRAY(
           SELECT id FROM ${t.qualified}
           WHERE status = '${status}'
             AND finished_at < now() - $1::bigint * interval '1 millisecond'
           ORDER BY finished_at
           LIMIT $2
           FOR UPDATE SKIP LOCKED))`,
      ),
    ]),
  ) as { readonly [S in FinishedStatus]: NamedStatement },
});
