import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { JobsEvents, type JobsEventMap, type JobsEventName } from 'nest-jobs';

/** Every event name, checked complete by the compiler. */
const EVERY_EVENT: { [K in JobsEventName]: true } = {
  'job.enqueued': true,
  'job.claimed': true,
  'job.started': true,
  'job.completed': true,
  'job.retried': true,
  'job.failed': true,
  'job.snoozed': true,
  'job.rescheduled': true,
  'job.progress': true,
  'job.checkpointed': true,
  'job.lease-lost': true,
  'job.rescued': true,
  'job.released': true,
  'job.cancelled': true,
  'job.attempt-cancelled': true,
  'job.redriven': true,
  'job.deleted': true,
  'job.run-now': true,
  'worker.started': true,
  'worker.queue-added': true,
  'worker.stopped': true,
  'worker.claim-failed': true,
  'queue.paused': true,
  'queue.resumed': true,
  'schedule.enqueued': true,
  'schedule.skipped': true,
  'schedule.changed': true,
};

/**
 * Records every JobsEvents event of an app from module init on, so tests assert on events,
 * not on log text. Add it to the app's providers and read it with `app.get(EventLog)`.
 */
@Injectable()
export class EventLog implements OnModuleInit {
  readonly entries: Array<{ event: JobsEventName; payload: unknown }> = [];

  constructor(@Inject(JobsEvents) private readonly events: JobsEvents) {}

  onModuleInit(): void {
    for (const event of Object.keys(EVERY_EVENT) as JobsEventName[]) {
      this.events.on(event, (payload) => {
        this.entries.push({ event, payload });
      });
    }
  }

  /** The payloads of `event`, in order. */
  of<K extends JobsEventName>(event: K): JobsEventMap[K][] {
    return this.entries
      .filter((entry) => entry.event === event)
      .map((entry) => entry.payload as JobsEventMap[K]);
  }
}
