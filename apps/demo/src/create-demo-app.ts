import type { INestApplication, LoggerService, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import {
  demoSettingsFromEnv,
  type DemoConfig,
  type DemoSettings,
} from './config/demo-config.js';

/** Debug included: the worker logs claims and completions at debug level. */
export const DEMO_LOG_LEVELS: LogLevel[] = ['log', 'error', 'warn', 'debug'];

/** Options of `createDemoApp`. */
export interface DemoAppOptions {
  /** PostgreSQL URL of the demo database (its tables are created by migrations at start-up). */
  databaseUrl: string;
  /** Listen on this port (0: any free one). Without it the app is only initialised, e.g. for supertest. */
  port?: number;
  /** Nest logger, or the levels of Nest's console logger. Default `DEMO_LOG_LEVELS`. */
  logger?: LoggerService | LogLevel[] | false;
  /** Overrides the settings read from the environment (DEMO_WORKER, DEMO_CONCURRENCY, ...). */
  settings?: Partial<DemoSettings>;
}

/**
 * Builds and starts the demo application: `main.ts` runs it for people, the e2e test runs
 * the very same app in-process against its own database. Start-up errors are thrown (not
 * a process exit), and the caller owns the returned app: `await app.close()` drains the
 * worker and closes the pool.
 */
export async function createDemoApp(
  options: DemoAppOptions,
): Promise<INestApplication> {
  const config: DemoConfig = {
    ...demoSettingsFromEnv(process.env),
    ...options.settings,
    databaseUrl: options.databaseUrl,
  };
  const app = await NestFactory.create(AppModule.forRoot(config), {
    logger: options.logger ?? DEMO_LOG_LEVELS,
    abortOnError: false,
  });
  try {
    if (options.port === undefined) await app.init();
    else await app.listen(options.port);
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}
