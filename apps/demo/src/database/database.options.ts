import type { TypeOrmModuleOptions } from '@nestjs/typeorm';
import { JobEntity, NEST_JOBS_MIGRATIONS } from 'nest-jobs';
import type { DemoConfig } from '../config/demo-config.js';
import { Report } from '../reports/report.entity.js';
import { User } from '../users/user.entity.js';
import { DEMO_MIGRATIONS } from './demo.migrations.js';

/** Name of the demo's connections in pg_stat_activity (the worker's own pool adds " (worker)", its LISTEN one " (listener)"). */
export const DEMO_APPLICATION_NAME = 'nest-jobs-demo';

/**
 * The demo's DataSource. The schema is owned by migrations, never by `synchronize`: the
 * library's migrations (timestamps 1 and 2) sort before the demo's own and run with them
 * at start-up, so nothing has to be set up by hand.
 */
export function demoDatabaseOptions(config: DemoConfig): TypeOrmModuleOptions {
  return {
    type: 'postgres',
    url: config.databaseUrl,
    applicationName: DEMO_APPLICATION_NAME,
    entities: [User, Report, JobEntity],
    migrations: [...NEST_JOBS_MIGRATIONS, ...DEMO_MIGRATIONS],
    migrationsRun: true,
    synchronize: false,
    // Fail fast on a wrong DATABASE_URL instead of @nestjs/typeorm's 9 tries over 27 s.
    retryAttempts: 2,
    retryDelay: 1_000,
  };
}
