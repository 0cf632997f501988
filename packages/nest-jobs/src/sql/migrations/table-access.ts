import { JobsPrivilegeError } from '../../errors/jobs-privilege.error.js';
import type { JobsTable } from '../jobs-table.js';

/** What start-up reads of the role's rights on the jobs table and its schema. */
export interface TableAccess {
  role: string;
  /** The session's `statement_timeout` as PostgreSQL shows it (`0`: none). */
  statementTimeout: string;
  databaseCreate: boolean;
  schemaExists: boolean;
  schemaUsage: boolean;
  schemaCreate: boolean;
  tableExists: boolean;
  /** The role is (a member of) the table's owner: DDL on the table needs that. */
  tableOwner: boolean;
  /** Which of SELECT, INSERT, UPDATE, DELETE the role holds on the table. */
  tablePrivileges: readonly string[];
}

/** Table privileges a process needs: what its enqueues, its worker and its sweeps send. */
export function requiredTablePrivileges(options: {
  worker?: { enabled: boolean };
  retention?: {
    completedMs: number | false;
    failedMs: number | false;
    cancelledMs: number | false;
  };
}): string[] {
  // An enqueue is an INSERT ... RETURNING, which needs SELECT too.
  const needed = ['SELECT', 'INSERT'];
  if (options.worker?.enabled === false) return needed;
  needed.push('UPDATE');
  const retention = options.retention;
  if (
    !retention ||
    retention.completedMs !== false ||
    retention.failedMs !== false ||
    retention.cancelledMs !== false
  )
    needed.push('DELETE');
  return needed;
}

/**
 * Throws JobsPrivilegeError when the role could not use the schema at all (every statement
 * on the table would fail with "permission denied for schema"), or, when `migrating`, could
 * not create what the pending migrations create. Checked before the DDL so that the error
 * names the privilege and the object, instead of PostgreSQL's message from the middle of a
 * migration.
 */
export function checkMigrationAccess(
  jobs: JobsTable,
  access: TableAccess,
  migrating: boolean,
): void {
  const schema = `schema "${jobs.schema}"`;
  if (access.schemaExists && !access.schemaUsage) {
    throw new JobsPrivilegeError(
      access.role,
      ['USAGE'],
      schema,
      `to reach the jobs table ${jobs.qualified}`,
      `Run: GRANT USAGE ON SCHEMA "${jobs.schema}" TO "${access.role}"`,
    );
  }
  if (!migrating) return;
  if (!access.schemaExists && !access.databaseCreate) {
    throw new JobsPrivilegeError(
      access.role,
      ['CREATE'],
      'the current database',
      `to create the schema "${jobs.schema}" (runMigrations: true)`,
      `Create the schema as another role, grant CREATE on the database, or run NEST_JOBS_MIGRATIONS ` +
        `as a role that may (and drop runMigrations)`,
    );
  }
  if (access.schemaExists && !access.tableExists && !access.schemaCreate) {
    throw new JobsPrivilegeError(
      access.role,
      ['CREATE'],
      schema,
      `to create the jobs table ${jobs.qualified} (runMigrations: true)`,
      `Run: GRANT CREATE ON SCHEMA "${jobs.schema}" TO "${access.role}", or run NEST_JOBS_MIGRATIONS ` +
        `as a role that may (and drop runMigrations)`,
    );
  }
  if (access.tableExists && !access.tableOwner) {
    throw new JobsPrivilegeError(
      access.role,
      ['OWNER'],
      `table ${jobs.qualified}`,
      `to migrate it (runMigrations: true; ALTER TABLE and CREATE INDEX need its owner)`,
      `Run the migrations as the table's owner (NEST_JOBS_MIGRATIONS, and drop runMigrations), ` +
        `or: ALTER TABLE ${jobs.qualified} OWNER TO "${access.role}"`,
    );
  }
}

/**
 * Throws JobsPrivilegeError naming every table privilege the process needs and lacks. Read
 * at start-up because none is needed to check the schema version (the catalog is
 * readable by all): without this the first enqueue or claim would fail instead.
 */
export function checkTableAccess(
  jobs: JobsTable,
  access: TableAccess,
  needed: readonly string[],
): void {
  const missing = needed.filter((p) => !access.tablePrivileges.includes(p));
  if (missing.length === 0) return;
  throw new JobsPrivilegeError(
    access.role,
    missing,
    `table ${jobs.qualified}`,
    'to enqueue (SELECT, INSERT) and, in a process that runs a worker, to claim and ' +
      'finish jobs (UPDATE) and delete them past their retention (DELETE)',
    `Run: GRANT ${missing.join(', ')} ON ${jobs.qualified} TO "${access.role}"`,
  );
}
