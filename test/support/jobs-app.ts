import type {
  DynamicModule,
  LoggerService,
  ModuleMetadata,
  Provider,
  Type,
} from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobEntity, JobsModule, type JobsModuleOptions } from 'nest-jobs';
import type { TestDatabase } from './test-database.js';

/** Keeps every log line, so tests can assert on what the library said; prints nothing. */
export class CapturingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string; context?: string }> =
    [];
  private record(level: string, message: unknown, rest: unknown[]): void {
    const context =
      rest.length > 0 && typeof rest[rest.length - 1] === 'string'
        ? (rest[rest.length - 1] as string)
        : undefined;
    this.lines.push({
      level,
      message: String(message),
      ...(context ? { context } : {}),
    });
    if (process.env.NEST_JOBS_TEST_LOGS)
      console.log(`[${level}] ${context ?? ''} ${String(message)}`);
  }
  log(message: unknown, ...rest: unknown[]) {
    this.record('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]) {
    this.record('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]) {
    this.record('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]) {
    this.record('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]) {
    this.record('verbose', message, rest);
  }
  messages(level?: string): string[] {
    return this.lines
      .filter((line) => !level || line.level === level)
      .map((line) => line.message);
  }
}

export interface JobsAppSetup {
  providers?: Provider[];
  imports?: ModuleMetadata['imports'];
  /** Options for JobsModule.forRoot (runMigrations defaults to true here). */
  jobs?: JobsModuleOptions;
  /** Replace JobsModule.forRoot(...) entirely (e.g. to test forRootAsync). */
  jobsModule?: DynamicModule | Type;
  /** Application name of the app's pool, to find its backends in pg_stat_activity. */
  applicationName?: string;
  /** Connect with this URL instead of the test database's (e.g. as another role). */
  url?: string;
  /** Size of the application's TypeORM pool (pg's default 10 when not given). */
  poolSize?: number;
}

export interface JobsApp {
  readonly module: TestingModule;
  readonly logger: CapturingLogger;
  get<T>(token: Type<T> | string | symbol): T;
  close(): Promise<void>;
}

/** The usual app: TypeOrmModule.forRoot on the test database plus JobsModule, initialised. */
export async function createJobsApp(
  db: TestDatabase,
  setup: JobsAppSetup = {},
): Promise<JobsApp> {
  const logger = new CapturingLogger();
  const module = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({
        type: 'postgres',
        url: setup.url ?? db.url,
        entities: [JobEntity],
        applicationName: setup.applicationName ?? 'nest-jobs-test-app',
        ...(setup.poolSize === undefined
          ? {}
          : { extra: { max: setup.poolSize } }),
        logging: false,
      }),
      setup.jobsModule ??
        JobsModule.forRoot({ runMigrations: true, ...setup.jobs }),
      ...(setup.imports ?? []),
    ],
    providers: setup.providers ?? [],
  })
    .setLogger(logger)
    .compile();
  module.enableShutdownHooks?.();
  await module.init();
  return {
    module,
    logger,
    get: <T>(token: Type<T> | string | symbol) =>
      module.get<T>(token as Type<T>, { strict: false }),
    close: () => module.close(),
  };
}
