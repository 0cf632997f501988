import type { JobsTable } from '../jobs-table.js';
import { named } from './named-statement.js';

/** What start-up reads of the table to know its schema version (which migrations it has). */
export const schemaStateQueries = (t: JobsTable) => ({
  /**
   * $1 qualified table name, $2 schema, $3 table, $4 qualified finished index: what start-up
   * checks. The comment holds the recorded schema version (from version 4 on); the other
   * columns tell the versions of tables from before it was recorded (0 to 3), and never
   * change (see migrations/schema-version.ts).
   */
  tableState: named(
    t,
    'table_state',
    `SELECT to_regclass($1) IS NOT NULL AS table_exists,
            EXISTS (SELECT 1 FROM information_schema.columns
                    WHERE table_schema = $2 AND table_name = $3 AND column_name = 'retry_policy') AS has_retry_policy,
            to_regclass($4) IS NOT NULL AS has_finished_index,
            obj_description(to_regclass($1), 'pg_class') AS comment`,
  ),
});
