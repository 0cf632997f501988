import { Injectable, Logger } from '@nestjs/common';
import { Job, JobsReader, Recurring, type JobContext } from 'nest-jobs';

/** What the recurring snapshot job saw last (GET /admin/schedules shows its run too). */
export interface QueueSnapshot {
  readonly takenAt: string;
  readonly jobId: string;
  /** Jobs running across every instance, per the reader. */
  readonly running: number;
}

/**
 * A recurring job: every five minutes, once across every replica of the demo (the schedule
 * lives in the database, not in a process timer), it records how many jobs run. Missed
 * occurrences (every replica down) are skipped: a stale snapshot is worth nothing.
 */
@Injectable()
export class QueueSnapshotJob {
  private readonly logger = new Logger(QueueSnapshotJob.name);
  /** The latest snapshots, newest last (a few only). */
  readonly snapshots: QueueSnapshot[] = [];

  constructor(private readonly reader: JobsReader) {}

  @Recurring('0 */5 * * * *', {
    name: 'demo.queue-snapshot',
    missed: 'skip',
  })
  @Job({ name: 'demo.queue-snapshot', queue: 'maintenance', maxRetries: 0 })
  async take(_payload: unknown, ctx: JobContext): Promise<void> {
    const stats = await this.reader.queueStats();
    const running = stats.reduce((sum, queue) => sum + queue.running, 0);
    this.snapshots.push({
      takenAt: new Date().toISOString(),
      jobId: ctx.id,
      running,
    });
    if (this.snapshots.length > 10) this.snapshots.shift();
    this.logger.log(`Queue snapshot: ${running} job(s) running`);
  }
}
