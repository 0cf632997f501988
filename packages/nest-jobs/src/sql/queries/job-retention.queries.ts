import {
  FINISHED_STATUSES,
  sqlStatusList,
} from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { named } from './named-statement.js';

/** Retention: finished rows deleted once they are older than their status's retention. */
export const jobRetentionQueries = (t: JobsTable) => ({
  /**
   * $1 status, $2 age in ms, $3 limit: deletes finished rows older than the retention.
   * `status IN (...)` implies the finished index's predicate, which `status = $1` alone
   * cannot prove to a generic plan.
   */
  deleteFinished: named(
    t,
    'delete_finished',
    `DELETE FROM ${t.qualified}
     WHERE id = ANY(ARRAY(
       SELECT id FROM ${t.qualified}
       WHERE status = $1 AND status IN ${sqlStatusList(FINISHED_STATUSES)}
         AND finished_at < now() - $2::bigint * interval '1 millisecond'
       ORDER BY finished_at
       LIMIT $3
       FOR UPDATE SKIP LOCKED))`,
  ),
});
