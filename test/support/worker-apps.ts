import { afterAll, afterEach, beforeAll, expect } from '@jest/globals';
import { createJobsApp, type JobsApp, type JobsAppSetup } from './jobs-app.js';
import {
  createTestDatabase,
  otherConnections,
  type TestDatabase,
} from './test-database.js';
import { waitFor } from './wait-for.js';

/** An app of a worker suite: its pool's application name finds its backends. */
export interface WorkerApp extends JobsApp {
  readonly applicationName: string;
}

/**
 * Starts apps with unique application names and closes them with a leak check: after a
 * close, no backend of that app (pool or LISTEN connection) may remain, and once every app
 * of the file is closed no backend but the test's own may remain on the database.
 */
export class WorkerApps {
  private readonly open = new Set<WorkerApp>();
  private counter = 0;

  constructor(
    private readonly db: () => TestDatabase,
    private readonly label: string,
  ) {}

  async start(setup: Omit<JobsAppSetup, 'applicationName'> = {}) {
    const applicationName = `${this.label}-${++this.counter}`;
    const app = await createJobsApp(this.db(), { ...setup, applicationName });
    const workerApp: WorkerApp = { ...app, applicationName };
    this.open.add(workerApp);
    return workerApp;
  }

  /** Closes `app` (at most once) and asserts that it left no connection behind. */
  async close(app: WorkerApp): Promise<void> {
    if (!this.open.delete(app)) return;
    await app.close();
    const db = this.db();
    await waitFor(
      `no backend of ${app.applicationName} after close`,
      async () => (await connectionsOf(db, app.applicationName)).length === 0,
      { timeoutMs: 5_000 },
    );
    if (this.open.size === 0) await expectNoConnectionsLeft(db);
  }

  /** For afterEach: closes whatever a failed test left open. */
  async closeAll(): Promise<void> {
    for (const app of [...this.open]) await this.close(app);
    await expectNoConnectionsLeft(this.db());
  }
}

/** Waits (briefly) until only the test's own pool is connected, then asserts it. */
export async function expectNoConnectionsLeft(db: TestDatabase) {
  const left = await waitFor(
    'every app connection to be closed',
    async () => {
      const rows = await otherConnections(db);
      return rows.length === 0 ? rows : false;
    },
    { timeoutMs: 5_000 },
  ).catch(() => otherConnections(db));
  expect(left).toEqual([]);
}

/** Backends of one app: its TypeORM pool, the worker's pool and its LISTEN connection. */
export function connectionsOf(
  db: TestDatabase,
  applicationName: string,
): Promise<Array<{ pid: number; application_name: string; query: string }>> {
  return db.query(
    `SELECT pid, application_name, query FROM pg_stat_activity
     WHERE datname = current_database() AND backend_type = 'client backend'
       AND application_name IN ($1, $1 || ' (worker)', $1 || ' (listener)')`,
    [applicationName],
  );
}

/**
 * Waits until the app's LISTEN connection has run its LISTEN (so a NOTIFY sent from now
 * on reaches it) and returns its backend pid.
 */
export async function waitForListener(
  db: TestDatabase,
  app: WorkerApp,
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
  app: WorkerApp,
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

/** A promise with its resolve function, to let handlers proceed when a test says so. */
export class Gate {
  readonly opened: Promise<void>;
  open!: () => void;
  constructor() {
    this.opened = new Promise((resolve) => (this.open = resolve));
  }
}

/** Resolves with `signal.reason` once the signal is aborted. */
export function aborted(signal: AbortSignal): Promise<unknown> {
  if (signal.aborted) return Promise.resolve(signal.reason);
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), {
      once: true,
    }),
  );
}

/**
 * Registers the lifecycle of a worker suite: a database of its own (handed to `onDatabase`),
 * every app closed with the leak check after each test, the table emptied after each test
 * when asked (a row left running with a live lease would be rescued during a later test),
 * and the database dropped at the end. Returns the suite's WorkerApps.
 */
export function workerSuite(
  databaseLabel: string,
  appLabel: string,
  onDatabase: (db: TestDatabase) => void,
  { clearJobsAfterEach = false }: { clearJobsAfterEach?: boolean } = {},
): WorkerApps {
  let db: TestDatabase | undefined;
  const apps = new WorkerApps(() => db!, appLabel);
  beforeAll(async () => {
    db = await createTestDatabase(databaseLabel);
    onDatabase(db);
  });
  afterEach(async () => {
    await apps.closeAll();
    if (clearJobsAfterEach) await db!.query('DELETE FROM nest_jobs');
  });
  afterAll(() => db?.drop());
  return apps;
}
