import type { TestDatabase } from './test-database.js';
import { waitFor } from './wait-for.js';

/** What names an app's backends: its pool's application name (see `useJobsSuite`). */
export interface NamedApp {
  readonly applicationName: string;
}

/** The application names of an app's backends: its TypeORM pool, the worker's pool, its LISTEN connection. */
export function backendNamesOf(applicationName: string): string[] {
  return [
    applicationName,
    `${applicationName} (worker)`,
    `${applicationName} (listener)`,
  ];
}

/** Backends of one app: its TypeORM pool, the worker's pool and its LISTEN connection. */
export function connectionsOf(
  db: TestDatabase,
  applicationName: string,
): Promise<Array<{ pid: number; application_name: string; query: string }>> {
  return db.query(
    `SELECT pid, application_name, query FROM pg_stat_activity
     WHERE datname = current_database() AND backend_type = 'client backend'
       AND application_name = ANY($1)`,
    [backendNamesOf(applicationName)],
  );
}

/**
 * Waits until the app's LISTEN connection has run its LISTEN (so a NOTIFY sent from now
 * on reaches it) and returns its backend pid.
 */
export async function waitForListener(
  db: TestDatabase,
  app: NamedApp,
  { notPid }: { notPid?: number } = {},
): Promise<number> {
  return waitFor(
    `the LISTEN connection of ${app.applicationName}`,
    async () => {
      const [row] = await db.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1
         AND state = 'idle' AND query ILIKE 'LISTEN %'`,
        [`${app.applicationName} (listener)`],
      );
      return row && row.pid !== notPid ? row.pid : undefined;
    },
  );
}

/**
 * Waits until the app's LISTEN is in place and its worker has sent nothing for a while
 * (every worker connection idle for 100 ms): the start-up claims and sweep are over, and
 * nothing but a wake-up starts another statement before the next poll.
 */
export async function waitForQuietWorker(
  db: TestDatabase,
  app: NamedApp,
): Promise<void> {
  await waitForListener(db, app);
  await waitFor(
    `the worker of ${app.applicationName} to be quiet`,
    async () => {
      const [row] = await db.query<{ connections: number; busy: number }>(
        `SELECT count(*)::int AS connections,
              count(*) FILTER (WHERE state <> 'idle'
                OR state_change > now() - interval '100 ms')::int AS busy
       FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1`,
        [`${app.applicationName} (worker)`],
      );
      return row!.connections > 0 && row!.busy === 0;
    },
  );
}
