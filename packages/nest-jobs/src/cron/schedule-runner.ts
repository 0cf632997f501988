import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { JobsEvents } from '../events/jobs-events.js';
import { JobHandlerRegistry } from '../handlers/job-handler.registry.js';
import { JOBS_RESOLVED_OPTIONS } from '../jobs.constants.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { ScheduleRepository } from '../sql/schedule.repository.js';
import { JobsWorker } from '../worker/jobs.worker.js';
import { DeclaredSchedules } from './declared-schedules.js';
import { ScheduleTicker } from './schedule-ticker.js';

/**
 * Stores the declared schedules at bootstrap, and ticks in instances whose worker runs, on
 * the worker's connections and for as long as it runs (JobsWorker#runAlongside): their
 * bounds keep a tick from hanging on a connection that does not answer, and the
 * application's pool stays free for its requests. An instance without a running worker
 * (API-only, manual mode), or with `schedules: false`, never ticks: it pays nothing.
 */
@Injectable()
export class ScheduleRunner implements OnApplicationBootstrap {
  constructor(
    @Inject(JOBS_RESOLVED_OPTIONS)
    private readonly options: ResolvedJobsOptions,
    private readonly declared: DeclaredSchedules,
    private readonly repository: ScheduleRepository,
    private readonly registry: JobHandlerRegistry,
    private readonly events: JobsEvents,
    private readonly worker: JobsWorker,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.declared.store(this.repository);
    if (!this.options.schedules.enabled || this.registry.names().length === 0)
      return;
    this.worker.runAlongside(
      (repository) =>
        new ScheduleTicker(
          new ScheduleRepository(repository),
          this.registry,
          this.events,
          this.options,
        ),
      // Spread over one interval: instances started together do not tick in step.
      Math.floor(Math.random() * this.options.schedules.pollIntervalMs),
    );
  }
}
