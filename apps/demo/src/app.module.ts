import {
  Module,
  type DynamicModule,
  type MiddlewareConsumer,
  type NestModule,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobsModule } from 'nest-jobs';
import { AdminModule } from './admin/admin.module.js';
import { JobsErrorsFilter } from './common/jobs-errors.filter.js';
import { RequestIdMiddleware } from './common/request-id.middleware.js';
import { ShutdownNotice } from './common/shutdown-notice.js';
import { DEMO_CONFIG, type DemoConfig } from './config/demo-config.js';
import { DemoConfigModule } from './config/demo-config.module.js';
import { demoDatabaseOptions } from './database/database.options.js';
import { ExactlyOnceModule } from './exactly-once/exactly-once.module.js';
import { FlakyModule } from './flaky/flaky.module.js';
import { WaitingModule } from './waiting/waiting.module.js';
import { JobsApiModule } from './jobs/jobs-api.module.js';
import { LedgerModule } from './ledger/ledger.module.js';
import { demoJobsOptions } from './jobs/jobs-module.options.js';
import { MailModule } from './mail/mail.module.js';
import { ReportsModule } from './reports/reports.module.js';
import { SchedulesModule } from './schedules/schedules.module.js';
import { TenantsModule } from './tenants/tenants.module.js';
import { UsersModule } from './users/users.module.js';

/** The demo application: one feature module per endpoint group, all sharing one database. */
@Module({})
export class AppModule implements NestModule {
  static forRoot(config: DemoConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        DemoConfigModule.forRoot(config),
        TypeOrmModule.forRootAsync({
          inject: [DEMO_CONFIG],
          useFactory: demoDatabaseOptions,
        }),
        // isGlobal: every feature module can inject JobsService without importing JobsModule.
        JobsModule.forRootAsync({
          isGlobal: true,
          inject: [DEMO_CONFIG],
          useFactory: demoJobsOptions,
        }),
        UsersModule,
        MailModule,
        ReportsModule,
        FlakyModule,
        WaitingModule,
        SchedulesModule,
        ExactlyOnceModule,
        LedgerModule,
        TenantsModule,
        JobsApiModule,
        AdminModule,
      ],
      providers: [
        { provide: APP_FILTER, useClass: JobsErrorsFilter },
        ShutdownNotice,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(RequestIdMiddleware).forRoutes('{*path}');
  }
}
