import { Module } from '@nestjs/common';
import { QueueSnapshotJob } from './queue-snapshot.job.js';

/** The demo's recurring job (declared with @Recurring; its admin routes are under /admin/schedules). */
@Module({
  providers: [QueueSnapshotJob],
  exports: [QueueSnapshotJob],
})
export class SchedulesModule {}
