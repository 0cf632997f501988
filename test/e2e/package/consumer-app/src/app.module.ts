import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobEntity, JobsModule, NEST_JOBS_MIGRATIONS } from 'nest-jobs';
import { Greeter } from './greeter.js';

/** The module registration of the README's "Register the module", on DATABASE_URL. */
@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: process.env.DATABASE_URL,
      entities: [JobEntity],
      migrations: [...NEST_JOBS_MIGRATIONS],
      migrationsRun: true,
    }),
    JobsModule.forRoot(),
  ],
  providers: [Greeter],
})
export class AppModule {}
