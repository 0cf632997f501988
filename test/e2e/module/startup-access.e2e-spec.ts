import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  JobsMigrationError,
  JobsModule,
  JobsPrivilegeError,
  JobsService,
  NEST_JOBS_MIGRATIONS,
  type JobsModuleOptions,
} from 'nest-jobs';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { CapturingLogger } from '../../support/jobs-app.js';
import { useJobsSuite } from '../../support/jobs-suite.js';

/**
 * Start-up as a role that may not do everything: each missing privilege, and a
 * statement_timeout that cancels the migration, is a typed error naming the cause. Roles
 * are cluster-wide: this file's have a unique suffix and are dropped after each test.
 */
describe('JobsModule start-up: privileges and timeouts of the role', () => {
  const suffix = `${process.pid}_${Date.now().toString(36)}`;
  const roles: string[] = [];
  const dataSources: DataSource[] = [];
  const { db } = useJobsSuite('startup-access', {
    closeOwnConnections: async () => {
      await Promise.all(
        dataSources.splice(0).map((ds) => ds.isInitialized && ds.destroy()),
      );
    },
  });

  beforeAll(async () => {
    // The table exists (created by the admin role, so owned by it), at the current version.
    await db.query(`DROP TABLE IF EXISTS public.nest_jobs`);
  });

  afterEach(async () => {
    await Promise.all(
      dataSources.splice(0).map((ds) => ds.isInitialized && ds.destroy()),
    );
    for (const role of roles.splice(0)) {
      await db.query(`DROP OWNED BY "${role}" CASCADE`);
      await db.query(`DROP ROLE "${role}"`);
    }
  });

  async function createRole(name: string, ...grants: string[]) {
    const role = `nj_${name}_${suffix}`;
    // A password, as the server may ask non-admin roles for one (trust or not, it works).
    await db.query(`CREATE ROLE "${role}" LOGIN PASSWORD 'nest-jobs-test'`);
    roles.push(role);
    for (const grant of grants)
      await db.query(grant.replaceAll('$role', `"${role}"`));
    return role;
  }

  async function dataSourceAs(role: string) {
    const url = new URL(db.url);
    url.username = role;
    url.password = 'nest-jobs-test';
    const dataSource = new DataSource({
      type: 'postgres',
      url: url.toString(),
    });
    dataSources.push(dataSource);
    return dataSource.initialize();
  }

  async function createTableAsAdmin(schema = 'public') {
    const admin = await new DataSource({
      type: 'postgres',
      url: db.url,
    }).initialize();
    const runner = admin.createQueryRunner();
    try {
      const migrations =
        schema === 'public'
          ? NEST_JOBS_MIGRATIONS
          : (await import('nest-jobs')).createJobsMigrations({ schema });
      for (const Migration of migrations) await new Migration().up(runner);
    } finally {
      await runner.release();
      await admin.destroy();
    }
  }

  async function startupError(
    dataSource: DataSource,
    options: JobsModuleOptions = {},
  ): Promise<Error> {
    let module: TestingModule | undefined;
    try {
      module = await Test.createTestingModule({
        imports: [JobsModule.forRoot({ dataSource, ...options })],
      })
        .setLogger(new CapturingLogger())
        .compile();
      await module.init();
    } catch (error) {
      await module?.close();
      return error as Error;
    }
    await module.close();
    throw new Error('expected the application to fail at start-up');
  }

  it('runMigrations without CREATE on the schema names CREATE and the schema', async () => {
    const role = await createRole('nocreate');
    const error = await startupError(await dataSourceAs(role), {
      runMigrations: true,
    });
    expect(error).toBeInstanceOf(JobsPrivilegeError);
    expect((error as JobsPrivilegeError).privileges).toEqual(['CREATE']);
    expect((error as JobsPrivilegeError).object).toBe('schema "public"');
    expect(error.message).toContain(
      `GRANT CREATE ON SCHEMA "public" TO "${role}"`,
    );
    expect(
      await db.query(`SELECT to_regclass('public.nest_jobs') AS t`),
    ).toEqual([{ t: null }]);
  });

  it("no USAGE on the table's schema names USAGE and the schema (before any read of the table)", async () => {
    await db.query(`CREATE SCHEMA IF NOT EXISTS closed_jobs`);
    await createTableAsAdmin('closed_jobs');
    const role = await createRole('nousage');
    const error = await startupError(await dataSourceAs(role), {
      schema: 'closed_jobs',
    });
    expect(error).toBeInstanceOf(JobsPrivilegeError);
    expect((error as JobsPrivilegeError).privileges).toEqual(['USAGE']);
    expect((error as JobsPrivilegeError).object).toBe('schema "closed_jobs"');
    await db.query(`DROP SCHEMA closed_jobs CASCADE`);
  });

  it('missing table privileges are named, all at once, with the GRANT to run', async () => {
    await createTableAsAdmin();
    const role = await createRole(
      'readonly',
      'GRANT SELECT ON public.nest_jobs TO $role',
    );
    const error = await startupError(await dataSourceAs(role));
    expect(error).toBeInstanceOf(JobsPrivilegeError);
    expect((error as JobsPrivilegeError).privileges).toEqual([
      'INSERT',
      'UPDATE',
      'DELETE',
    ]);
    expect((error as JobsPrivilegeError).object).toBe(
      'table "public"."nest_jobs"',
    );
    expect(error.message).toContain(
      `GRANT INSERT, UPDATE, DELETE ON "public"."nest_jobs" TO "${role}"`,
    );
  });

  it('an API-only process needs SELECT and INSERT only, and then enqueues', async () => {
    await createTableAsAdmin();
    const role = await createRole(
      'producer',
      'GRANT SELECT, INSERT ON public.nest_jobs TO $role',
    );
    const dataSource = await dataSourceAs(role);
    const module = await Test.createTestingModule({
      imports: [
        JobsModule.forRoot({
          dataSource,
          validateJobNames: false,
          worker: { enabled: false },
        }),
      ],
    })
      .setLogger(new CapturingLogger())
      .compile();
    await module.init();
    try {
      const id = await module.get(JobsService).enqueue('remote.job', {});
      expect(
        await db.query(`SELECT job_type FROM nest_jobs WHERE id = $1`, [id]),
      ).toEqual([{ job_type: 'remote.job' }]);
    } finally {
      await module.close();
    }
  });

  it('runMigrations on a table of another role names OWNER and the table', async () => {
    await db.query(`DROP TABLE IF EXISTS public.nest_jobs`);
    const [CreateTable] = NEST_JOBS_MIGRATIONS;
    const admin = await new DataSource({
      type: 'postgres',
      url: db.url,
    }).initialize();
    const runner = admin.createQueryRunner();
    await new CreateTable!().up(runner);
    await runner.release();
    await admin.destroy();
    const role = await createRole(
      'notowner',
      'GRANT SELECT, INSERT, UPDATE, DELETE ON public.nest_jobs TO $role',
    );
    const error = await startupError(await dataSourceAs(role), {
      runMigrations: true,
    });
    expect(error).toBeInstanceOf(JobsPrivilegeError);
    expect((error as JobsPrivilegeError).privileges).toEqual(['OWNER']);
    expect((error as JobsPrivilegeError).object).toBe(
      'table "public"."nest_jobs"',
    );
  });

  it('a statement_timeout that cancels the migration is a JobsMigrationError that says so', async () => {
    await db.query(`DROP TABLE IF EXISTS public.nest_jobs`);
    const role = await createRole(
      'short',
      'GRANT CREATE ON SCHEMA public TO $role',
      `ALTER ROLE $role SET statement_timeout = '300ms'`,
    );
    // Another instance migrating: holds the migration lock, so the role's migration waits
    // for it until its statement_timeout cancels the wait.
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `SELECT pg_advisory_xact_lock(hashtext('nest-jobs:migrate'))`,
      );
      const error = await startupError(await dataSourceAs(role), {
        runMigrations: true,
      });
      expect(error).toBeInstanceOf(JobsMigrationError);
      expect((error as JobsMigrationError).code).toBe('57014');
      expect((error as JobsMigrationError).migration).toBe(
        'NestJobsCreateTable0000000000001',
      );
      expect(error.message).toContain(
        `cancelled by the statement_timeout of the role "${role}"`,
      );
      expect(error.message).toContain('statement_timeout is 300ms');
      expect(error.message).toContain(
        `ALTER ROLE "${role}" SET statement_timeout`,
      );
    } finally {
      await other.query('ROLLBACK');
      await other.end();
    }
    expect(
      await db.query(`SELECT to_regclass('public.nest_jobs') AS t`),
    ).toEqual([{ t: null }]);
  });
});
