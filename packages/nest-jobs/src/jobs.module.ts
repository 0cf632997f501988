import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import {
  ConfigurableModuleClass,
  OPTIONS_TYPE,
} from './jobs.module-definition.js';
import { JOBS_EXPORTS, JOBS_PROVIDERS } from './jobs.providers.js';

/**
 * Durable background jobs in the application's PostgreSQL database.
 *
 * ```ts
 * @Module({ imports: [TypeOrmModule.forRoot({...}), JobsModule.forRoot({ worker: { concurrency: 10 } })] })
 * ```
 * or `JobsModule.forRootAsync({ imports, inject, useFactory | useClass | useExisting })`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: JOBS_PROVIDERS,
  exports: JOBS_EXPORTS,
})
export class JobsModule extends ConfigurableModuleClass {
  /** Registers the module; every option is optional, so `forRoot()` works as is. */
  static override forRoot(options: typeof OPTIONS_TYPE = {}) {
    return super.forRoot(options);
  }
}
