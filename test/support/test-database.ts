import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A database of its own for one test file, on the run's server, dropped at the end. */
export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  /** A small pool on this database for assertions and set-up statements. */
  query<Row = any>(text: string, values?: unknown[]): Promise<Row[]>;
  /** Drops the database (terminating what is still connected) and closes the pools. */
  drop(): Promise<void>;
}

function serverUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url)
    throw new Error(
      'DATABASE_URL is not set: the jest global setup should have set it',
    );
  return url;
}

/**
 * Creates the database on the run's server, or on `server` (e.g. a server a chaos scenario
 * restarts: the admin side is a pool, so it survives a restart like the assertion pool).
 */
export async function createTestDatabase(
  label: string,
  server: string = serverUrl(),
): Promise<TestDatabase> {
  const name =
    `nest_jobs_${label.replace(/\W/g, '_')}_${randomBytes(4).toString('hex')}`.toLowerCase();
  const admin = new pg.Pool({ connectionString: server, max: 1 });
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({
    connectionString: url.toString(),
    max: 3,
    application_name: 'nest-jobs-test-assertions',
  });
  // DROP ... WITH (FORCE), or a server restart, may break a pooled connection; without a
  // listener pg would turn that expected error into an unhandled one.
  pool.on('error', () => undefined);
  admin.on('error', () => undefined);
  return {
    name,
    url: url.toString(),
    query: async (text, values) => (await pool.query(text, values)).rows,
    drop: async () => {
      await pool.end();
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

/** Backends connected to the database other than the test's own assertion pool. */
export async function otherConnections(
  db: TestDatabase,
): Promise<Array<{ pid: number; application_name: string }>> {
  return db.query(
    `SELECT pid, application_name FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
       AND application_name <> 'nest-jobs-test-assertions'`,
  );
}
