import type { JobsTable } from '../jobs-table.js';
import { named, plannedPerCall } from './named-statement.js';

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
  /**
   * $1 schema, $2 table: what the role may do there, read before anything touches the table
   * (to_regclass itself fails without USAGE on the schema, so this reads the catalog by
   * name). Null privilege columns: that object does not exist. Runs once per start-up.
   */
  access: plannedPerCall(
    t,
    'access',
    `SELECT current_user AS role,
            current_setting('statement_timeout') AS statement_timeout,
            has_database_privilege(current_database(), 'CREATE') AS database_create,
            n.oid IS NOT NULL AS schema_exists,
            CASE WHEN n.oid IS NOT NULL THEN has_schema_privilege(n.oid, 'USAGE') END AS schema_usage,
            CASE WHEN n.oid IS NOT NULL THEN has_schema_privilege(n.oid, 'CREATE') END AS schema_create,
            c.oid IS NOT NULL AS table_exists,
            CASE WHEN c.oid IS NOT NULL THEN pg_has_role(c.relowner, 'USAGE') END AS table_owner,
            CASE WHEN c.oid IS NOT NULL THEN ARRAY(
              SELECT p FROM unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p
              WHERE has_table_privilege(c.oid, p)) END AS table_privileges
       FROM (SELECT 1) AS one
       LEFT JOIN pg_namespace n ON n.nspname = $1
       LEFT JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
  ),
});
