import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobEntity } from 'nest-jobs';
import { JobRowsService } from './job-rows.service.js';
import { JobsController } from './jobs.controller.js';
import { WorkerController } from './worker.controller.js';

/** HTTP views of the jobs table and the worker (JobsService comes from the global JobsModule). */
@Module({
  imports: [TypeOrmModule.forFeature([JobEntity])],
  controllers: [JobsController, WorkerController],
  providers: [JobRowsService],
})
export class JobsApiModule {}
