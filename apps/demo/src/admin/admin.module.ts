import { Module } from '@nestjs/common';
import { AdminController } from './admin.controller.js';
import { AdminTokenGuard } from './admin-token.guard.js';
import { JobControlController } from './job-control.controller.js';
import { SchedulesController } from './schedules.controller.js';

/**
 * Operator routes under /admin, guarded by a bearer token: reading (JobsReader), pausing
 * (JobsQueueControl), acting on jobs (JobControl) and recurring schedules (JobsSchedules),
 * all from the global JobsModule.
 */
@Module({
  controllers: [AdminController, JobControlController, SchedulesController],
  providers: [AdminTokenGuard],
})
export class AdminModule {}
