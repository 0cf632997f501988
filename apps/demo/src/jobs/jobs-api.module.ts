import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobEntity } from 'nest-jobs';
import { EventsController } from './events.controller.js';
import { JobRowsService } from './job-rows.service.js';
import { JobsController } from './jobs.controller.js';
import { RecentEventsService } from './recent-events.service.js';
import { WorkerController } from './worker.controller.js';

/** HTTP views of the jobs table, the worker and the events (JobsService comes from the global JobsModule). */
@Module({
  imports: [TypeOrmModule.forFeature([JobEntity])],
  controllers: [JobsController, WorkerController, EventsController],
  providers: [JobRowsService, RecentEventsService],
})
export class JobsApiModule {}
