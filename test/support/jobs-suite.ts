import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  expect,
} from '@jest/globals';
import { backendNamesOf, connectionsOf } from './backends.js';
import { createJobsApp, type JobsApp, type JobsAppSetup } from './jobs-app.js';
import {
  createTestDatabase,
  otherConnections,
  type TestDatabase,
} from './test-database.js';
import { waitFor } from './wait-for.js';

/** An app of a suite: its pool's application name (unique in the file) finds its backends. */
export interface SuiteApp extends JobsApp {
  readonly applicationName: string;
  /**
   * Closes the app (at most once; later calls do nothing) and checks that it left no
   * backend behind (pool, worker pool, LISTEN connection); once no app of the suite is
   * open, that nothing but the suite's own assertion pool is connected.
   */
  close(): Promise<void>;
}

export interface JobsSuiteOptions {
  /**
   * Empties the jobs table after each test (a row left running with a live lease would be
   * rescued during a later test).
   */
  clearJobsAfterEach?: boolean;
  /**
   * For a suite that keeps connections of its own open across tests (a DataSource it
   * builds, an app it boots itself): closes them after the last test. The apps made by
   * `app()` are still checked as they close; the whole database is checked once, after
   * this, instead of after each test.
   */
  closeOwnConnections?: () => Promise<void>;
}

export interface JobsSuite {
  /**
   * The suite's database, created in a beforeAll and dropped in an afterAll. A stand-in
   * that forwards to it, so it can be destructured at the top of a describe.
   */
  readonly db: TestDatabase;
  /**
   * A Nest app (`createJobsApp`) on the suite's database. One made during a test is
   * closed after that test, one made in a beforeAll after the last test; either way with
   * the leak check of `SuiteApp.close`, which a test may also call itself.
   */
  app(setup?: Omit<JobsAppSetup, 'applicationName'>): Promise<SuiteApp>;
}

/**
 * Registers the lifecycle of an e2e suite (call it at the top of a describe): a database
 * of its own; after each test, the apps it made closed with a leak check and then no
 * backend left but those of the apps that outlive the test; after the last test, every
 * app closed, nothing left connected, the database dropped.
 */
export function useJobsSuite(
  label: string,
  options: JobsSuiteOptions = {},
): JobsSuite {
  let database: TestDatabase | undefined;
  const current = (): TestDatabase => {
    if (!database)
      throw new Error(
        `The database of suite "${label}" exists from its beforeAll on`,
      );
    return database;
  };
  const db: TestDatabase = {
    get name() {
      return current().name;
    },
    get url() {
      return current().url;
    },
    query: (text, values) => current().query(text, values),
    drop: () =>
      Promise.reject(
        new Error('useJobsSuite drops its database after the last test'),
      ),
  };

  /** Made in a beforeAll: closed after the last test. */
  const suiteApps = new Set<SuiteApp>();
  /** Made during a test (or its beforeEach): closed after it. */
  const testApps = new Set<SuiteApp>();
  let inTest = false;
  let counter = 0;

  async function closeChecked(app: SuiteApp, close: () => Promise<void>) {
    if (!testApps.delete(app) && !suiteApps.delete(app)) return;
    await close();
    await waitFor(
      `no backend of ${app.applicationName} after close`,
      async () => (await connectionsOf(db, app.applicationName)).length === 0,
      { timeoutMs: 5_000 },
    );
    if (
      !options.closeOwnConnections &&
      suiteApps.size === 0 &&
      testApps.size === 0
    )
      await expectNoConnectionsLeft(db);
  }

  /** Closes every app (each with its check), then throws the first failure. */
  async function closeAll(apps: SuiteApp[]): Promise<void> {
    const failures: unknown[] = [];
    for (const app of apps)
      await app.close().catch((error: unknown) => failures.push(error));
    if (failures.length > 0) throw failures[0];
  }

  beforeAll(async () => {
    database = await createTestDatabase(label);
  });
  beforeEach(() => {
    inTest = true;
  });
  afterEach(async () => {
    inTest = false;
    try {
      await closeAll([...testApps]);
      if (!options.closeOwnConnections)
        await expectNoConnectionsLeft(db, [...suiteApps]);
    } finally {
      if (options.clearJobsAfterEach) await db.query('DELETE FROM nest_jobs');
    }
  });
  afterAll(async () => {
    try {
      await closeAll([...testApps, ...suiteApps]);
      await options.closeOwnConnections?.();
      if (database) await expectNoConnectionsLeft(db);
    } finally {
      await database?.drop();
    }
  });

  return {
    db,
    async app(setup = {}) {
      const applicationName = `${label}-${++counter}`;
      const app = await createJobsApp(db, { ...setup, applicationName });
      const suiteApp: SuiteApp = {
        ...app,
        applicationName,
        close: () => closeChecked(suiteApp, () => app.close()),
      };
      (inTest ? testApps : suiteApps).add(suiteApp);
      return suiteApp;
    },
  };
}

/**
 * Waits (briefly) until no backend is connected but the test's own pool and those of
 * `openApps`, then asserts it.
 */
export async function expectNoConnectionsLeft(
  db: TestDatabase,
  openApps: readonly SuiteApp[] = [],
): Promise<void> {
  const allowed = new Set(
    openApps.flatMap((app) => backendNamesOf(app.applicationName)),
  );
  const others = async () =>
    (await otherConnections(db)).filter(
      (backend) => !allowed.has(backend.application_name),
    );
  const left = await waitFor(
    'every app connection to be closed',
    async () => {
      const rows = await others();
      return rows.length === 0 ? rows : false;
    },
    { timeoutMs: 5_000 },
  ).catch(() => others());
  expect(left).toEqual([]);
}
