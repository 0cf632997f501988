import { beforeAll, describe, expect, it } from '@jest/globals';
import {
  Injectable,
  Scope,
  type DynamicModule,
  type Provider,
} from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import {
  createJobsMigrations,
  InvalidJobsOptionError,
  Job,
  JobDefinitionError,
  JobEntity,
  JobsMiddleware,
  JobsMiddlewareError,
  JobsModule,
  JobsService,
  JobsTableMissingError,
  NEST_JOBS_MIGRATIONS,
  type JobsModuleOptions,
} from 'nest-jobs';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { CapturingLogger } from '../../support/jobs-app.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { otherConnections } from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

@Injectable()
class FirstMailer {
  @Job({ name: 'mail.send' })
  send() {}
}

@Injectable()
class SecondMailer {
  @Job({ name: 'mail.send' })
  deliver() {}
}

@Injectable({ scope: Scope.REQUEST })
class RequestScopedHandler {
  @Job()
  handle() {}
}

@JobsMiddleware()
@Injectable({ scope: Scope.REQUEST })
class RequestScopedMiddleware implements JobsMiddleware {
  work(_payload: unknown, _ctx: unknown, next: () => unknown) {
    return next();
  }
}

@JobsMiddleware({ order: Number.NaN })
@Injectable()
class UnorderedMiddleware implements JobsMiddleware {}

@Injectable()
class BadOptionsHandler {
  @Job({ maxRetries: -2 })
  handle() {}
}

/**
 * Start-up checks run against a DataSource the test owns (not TypeOrmModule), so a failed
 * start leaves nothing open behind.
 */
describe('JobsModule start-up checks', () => {
  let dataSource: DataSource;
  const { db } = useJobsSuite('startup', {
    closeOwnConnections: async () => {
      await dataSource?.destroy();
    },
  });

  beforeAll(async () => {
    dataSource = await new DataSource({
      type: 'postgres',
      url: db.url,
    }).initialize();
  });

  async function start(
    options: JobsModuleOptions,
    providers: Provider[] = [],
    jobsModule?: DynamicModule,
  ) {
    let module: TestingModule | undefined;
    try {
      module = await Test.createTestingModule({
        imports: [jobsModule ?? JobsModule.forRoot({ dataSource, ...options })],
        providers,
      })
        .setLogger(new CapturingLogger())
        .compile();
      await module.init();
      return module;
    } catch (error) {
      await module?.close();
      throw error;
    }
  }

  async function startupError(
    options: JobsModuleOptions,
    providers: Provider[] = [],
  ): Promise<Error> {
    const module = await start(options, providers).catch(
      (error: Error) => error,
    );
    if (!(module instanceof Error)) {
      await module.close();
      throw new Error('expected the application to fail at start-up');
    }
    return module;
  }

  describe('without the jobs table', () => {
    it('fails with an error naming the migration to run', async () => {
      const error = await startupError({});
      expect(error).toBeInstanceOf(JobsTableMissingError);
      expect(error.message).toContain(
        'table "public"."nest_jobs" does not exist',
      );
      expect(error.message).toContain(
        'Run the migration NestJobsCreateTable0000000000001',
      );
    });

    it('names the second migration when only the first ran', async () => {
      const [CreateTable] = NEST_JOBS_MIGRATIONS;
      const runner = dataSource.createQueryRunner();
      try {
        await new CreateTable!().up(runner);
        const error = await startupError({});
        expect(error).toBeInstanceOf(JobsTableMissingError);
        expect(error.message).toContain('has no column retry_policy');
        expect(error.message).toContain('NestJobsAddRetryPolicy0000000000002');
        await new CreateTable!().down(runner);
      } finally {
        await runner.release();
      }
    });

    it('names the third migration when only the first two ran', async () => {
      const [CreateTable, AddRetryPolicy] = NEST_JOBS_MIGRATIONS;
      const runner = dataSource.createQueryRunner();
      try {
        await new CreateTable!().up(runner);
        await new AddRetryPolicy!().up(runner);
        const error = await startupError({});
        expect(error).toBeInstanceOf(JobsTableMissingError);
        expect(error.message).toContain('has no index nest_jobs_finished_idx');
        expect(error.message).toContain(
          'Run the migration NestJobsAddFinishedIndex0000000000003',
        );
        await new CreateTable!().down(runner);
      } finally {
        await runner.release();
      }
    });

    it('names the fourth migration (the release count) when only the first three ran', async () => {
      const runner = dataSource.createQueryRunner();
      try {
        for (const Migration of NEST_JOBS_MIGRATIONS.slice(0, 3))
          await new Migration().up(runner);
        const error = await startupError({});
        expect(error).toBeInstanceOf(JobsTableMissingError);
        expect(error.message).toContain(
          'is at schema version 3 (its comment records no later nest-jobs version). ' +
            'Run the migration NestJobsAddReleases0000000000004',
        );
        await new NEST_JOBS_MIGRATIONS[0]!().down(runner);
      } finally {
        await runner.release();
      }
    });
  });

  describe('migrations', () => {
    it('run through TypeORM, are idempotent, and revert completely', async () => {
      const migrating = await new DataSource({
        type: 'postgres',
        url: db.url,
        migrations: NEST_JOBS_MIGRATIONS,
      }).initialize();
      try {
        expect((await migrating.runMigrations()).map((m) => m.name)).toEqual(
          NEST_JOBS_MIGRATIONS.map((Migration) => new Migration().name),
        );
        const runner = migrating.createQueryRunner();
        for (const Migration of NEST_JOBS_MIGRATIONS)
          await new Migration().up(runner); // again: no error
        await runner.release();
        const indexes = await db.query(
          `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'nest_jobs' ORDER BY 1`,
        );
        const definition = (name: string) =>
          indexes.find((i) => i.indexname === name)?.indexdef;
        expect(definition('nest_jobs_cancelled_idx')).toContain(
          "(finished_at) WHERE ((status)::text = 'cancelled'::text)",
        );
        expect(indexes.map((i) => i.indexname)).toEqual([
          'nest_jobs_cancelled_idx',
          'nest_jobs_claim_idx',
          'nest_jobs_failed_idx',
          'nest_jobs_finished_idx',
          'nest_jobs_key_failed_idx',
          'nest_jobs_key_running_idx',
          'nest_jobs_keylim_idx',
          'nest_jobs_keylim_run_idx',
          'nest_jobs_ordered_idx',
          'nest_jobs_pkey',
          'nest_jobs_running_lease_idx',
          'nest_jobs_unique_idx',
        ]);
        expect(definition('nest_jobs_failed_idx')).toContain(
          "(id) WHERE ((status)::text = 'failed'::text)",
        );
        expect(definition('nest_jobs_claim_idx')).toContain(
          "(queue, priority DESC, run_at) WHERE ((status)::text = 'pending'::text)",
        );
        expect(definition('nest_jobs_finished_idx')).toContain(
          "(finished_at) WHERE ((status)::text = ANY ((ARRAY['completed'::character varying, 'failed'::character varying])::text[]))",
        );
        expect(definition('nest_jobs_running_lease_idx')).toContain(
          "(locked_until) WHERE ((status)::text = 'running'::text)",
        );

        // Undo them newest first, checking what each one takes away.
        const column = (names: string) =>
          `SELECT count(*) = 0 AS gone FROM information_schema.columns
           WHERE table_name = 'nest_jobs' AND column_name IN (${names})`;
        const removed: Record<string, string> = {
          NestJobsAddFlowControl: `SELECT (${column(`'ordering_key', 'order_seq'`)})
            AND to_regclass('public.nest_jobs_order_seq') IS NULL
            AND to_regclass('public.nest_jobs_ordered_idx') IS NULL AS gone`,
          NestJobsAddQueuesAndFailedIndex: `SELECT to_regclass('public.nest_jobs_queues') IS NULL
            AND to_regclass('public.nest_jobs_failed_idx') IS NULL AS gone`,
          NestJobsAddCancelled: `SELECT to_regclass('public.nest_jobs_cancelled_idx') IS NULL AS gone`,
          NestJobsAddProgressAndHistory: column(`'progress', 'attempt_errors'`),
          NestJobsAddUniqueAndPriority: `SELECT (${column(`'unique_key', 'unique_states', 'priority'`)})
            AND to_regclass('public.nest_jobs_pending_idx') IS NOT NULL AS gone`,
          NestJobsAddReleases: column(`'releases'`),
          NestJobsAddFinishedIndex: `SELECT to_regclass('public.nest_jobs_finished_idx') IS NULL AS gone`,
          NestJobsCreateTable: `SELECT to_regclass('public.nest_jobs') IS NULL AS gone`,
        };
        for (const Migration of [...NEST_JOBS_MIGRATIONS].reverse()) {
          await migrating.undoLastMigration();
          const name = new Migration().name!.replace(/\d+$/, '');
          const check = removed[name];
          if (check)
            expect([name, (await db.query(check))[0].gone]).toEqual([
              name,
              true,
            ]);
        }
      } finally {
        await migrating.destroy();
      }
    });

    it('runMigrations: true creates the table at start-up, in a custom schema and table', async () => {
      const module = await start({
        runMigrations: true,
        schema: 'jobs',
        table: 'queue_items',
        worker: { enabled: false },
        validateJobNames: false,
      });
      try {
        const id = await module
          .get(JobsService)
          .enqueue('anything', { ok: true });
        expect(
          await db.query(
            'SELECT job_type, payload FROM jobs.queue_items WHERE id = $1',
            [id],
          ),
        ).toEqual([{ job_type: 'anything', payload: { ok: true } }]);
      } finally {
        await module.close();
      }
      const runner = dataSource.createQueryRunner();
      for (const Migration of createJobsMigrations({
        schema: 'jobs',
        table: 'queue_items',
      }).reverse()) {
        await new Migration().down(runner);
      }
      await runner.release();
      expect(
        await db.query(`SELECT to_regclass('jobs.queue_items') AS t`),
      ).toEqual([{ t: null }]);
    });

    it('runMigrations takes no table lock when the schema is complete (instances already working)', async () => {
      const first = await start({
        runMigrations: true,
        worker: { enabled: false },
      });
      await first.close();
      // A working instance holds ROW EXCLUSIVE on the table while it claims and completes.
      const working = new pg.Client({ connectionString: db.url });
      await working.connect();
      try {
        await working.query('BEGIN');
        await working.query('LOCK TABLE nest_jobs IN ROW EXCLUSIVE MODE');
        await working.query(`SET lock_timeout = '5s'`);
        const started = await start({
          runMigrations: true,
          worker: { enabled: false },
        });
        await started.close();
      } finally {
        await working.query('ROLLBACK');
        await working.end();
      }
    });

    it('concurrent start-ups migrating at once do not collide', async () => {
      const modules = await Promise.all(
        [1, 2, 3].map(async () => {
          const own = await new DataSource({
            type: 'postgres',
            url: db.url,
          }).initialize();
          return {
            own,
            module: await start({
              dataSource: own,
              runMigrations: true,
              worker: { enabled: false },
            }),
          };
        }),
      );
      for (const { own, module } of modules) {
        await module.close();
        await own.destroy();
      }
    });
  });

  describe('bad definitions and options', () => {
    it('rejects two handlers with the same job name, naming both', async () => {
      const error = await startupError({ runMigrations: true }, [
        FirstMailer,
        SecondMailer,
      ]);
      expect(error).toBeInstanceOf(JobDefinitionError);
      expect(error.message).toBe(
        'Invalid @Job handler SecondMailer#deliver: duplicate job name "mail.send", already used by FirstMailer#send',
      );
    });

    it('rejects a handler on a request-scoped provider', async () => {
      const error = await startupError({ runMigrations: true }, [
        RequestScopedHandler,
      ]);
      expect(error).toBeInstanceOf(JobDefinitionError);
      expect(error.message).toContain(
        'Invalid @Job handler RequestScopedHandler#handle: job handlers must live in singleton',
      );
    });

    it('rejects a request-scoped @JobsMiddleware() and one with an invalid order', async () => {
      const scoped = await startupError({ runMigrations: true }, [
        RequestScopedMiddleware,
      ]);
      expect(scoped).toBeInstanceOf(JobsMiddlewareError);
      expect(scoped.message).toContain(
        'nest-jobs middleware RequestScopedMiddleware must be a singleton',
      );
      const unordered = await startupError({ runMigrations: true }, [
        UnorderedMiddleware,
      ]);
      expect(unordered).toBeInstanceOf(JobsMiddlewareError);
      expect(unordered.message).toBe(
        'nest-jobs middleware UnorderedMiddleware has an invalid order: expected a finite number, got NaN',
      );
    });

    it('rejects invalid @Job options, naming Class#method', async () => {
      const error = await startupError({ runMigrations: true }, [
        BadOptionsHandler,
      ]);
      expect(error).toBeInstanceOf(JobDefinitionError);
      expect(error.message).toBe(
        'Invalid @Job handler BadOptionsHandler#handle: option "maxRetries" expected an integer between 0 and 1000000, or Infinity (retry for ever), got -2',
      );
    });

    const badOptions: Array<[string, object, string]> = [
      [
        'zero concurrency',
        { worker: { concurrency: 0 } },
        '"worker.concurrency": expected an integer between 1 and 10000, got 0',
      ],
      [
        'negative retries',
        { retry: { baseMs: -5 } },
        '"retry.baseMs": expected an integer between 0 and',
      ],
      [
        'empty queue name',
        { worker: { queues: [''] } },
        '"worker.queues[0]": expected a non-empty string, got ""',
      ],
      ['unknown key', { workers: 2 }, '"workers": unknown option'],
    ];
    it.each(badOptions)(
      'rejects a module option: %s',
      async (_kind, options, message) => {
        const error = await startupError(options as JobsModuleOptions);
        expect(error).toBeInstanceOf(InvalidJobsOptionError);
        expect(error.message).toContain(message);
      },
    );

    it('rejects a forRootAsync factory result with a bad option', async () => {
      const error = await start(
        {},
        [],
        JobsModule.forRootAsync({
          useFactory: () => ({ dataSource, worker: { leaseMs: 10 } }),
        }),
      ).catch((e: Error) => e);
      expect(error).toBeInstanceOf(InvalidJobsOptionError);
      expect((error as Error).message).toContain(
        '"worker.leaseMs": expected an integer between 1000 and 86400000, got 10',
      );
    });

    it('rejects a schema PostgreSQL reserves, and a table whose derived names pass 63 bytes, before any SQL', async () => {
      const reserved = await startupError({
        schema: 'pg_jobs',
        runMigrations: true,
      });
      expect(reserved).toBeInstanceOf(InvalidJobsOptionError);
      expect((reserved as InvalidJobsOptionError).option).toBe('schema');
      const long = 'j'.repeat(46);
      const tooLong = await startupError({ table: long, runMigrations: true });
      expect(tooLong).toBeInstanceOf(InvalidJobsOptionError);
      expect((tooLong as InvalidJobsOptionError).option).toBe('table');
      expect(tooLong.message).toContain(`"${long}_max_retries_check"`);
      expect(
        await dataSource.query(
          `SELECT relname FROM pg_class WHERE relname LIKE 'jjjj%'`,
        ),
      ).toEqual([]);
    });

    it('fails clearly when there is no DataSource at all', async () => {
      const error = await start({}, [], JobsModule.forRoot()).catch(
        (e: Error) => e,
      );
      expect(error).toBeInstanceOf(InvalidJobsOptionError);
      expect((error as Error).message).toContain(
        '"dataSource": no DataSource: pass options.dataSource, or register one under the token DataSource',
      );
    });

    it('fails clearly for a DataSource that is not initialized', async () => {
      const idle = new DataSource({
        type: 'postgres',
        url: db.url,
        entities: [JobEntity],
      });
      const error = await startupError({ dataSource: idle });
      // An option error, not a missing table: no query was sent, so no migration advice.
      expect(error).toBeInstanceOf(InvalidJobsOptionError);
      expect((error as InvalidJobsOptionError).option).toBe('dataSource');
      expect(error.message).toContain('expected an initialized DataSource');
      expect(error.message).not.toContain('migration');
    });
  });

  it('leaves no connection behind', async () => {
    await waitFor('connections of failed start-ups to close', async () =>
      (await otherConnections(db)).every((c) => c.application_name === ''),
    );
  });
});
