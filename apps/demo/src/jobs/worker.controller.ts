import { Controller, Get, Inject } from '@nestjs/common';
import { JobsWorker } from 'nest-jobs';
import { DEMO_CONFIG, type DemoConfig } from '../config/demo-config.js';

/** What this process's worker is doing right now. */
@Controller('worker')
export class WorkerController {
  constructor(
    private readonly worker: JobsWorker,
    @Inject(DEMO_CONFIG) private readonly config: DemoConfig,
  ) {}

  @Get()
  status(): {
    enabled: boolean;
    concurrency: number;
    queues: readonly string[];
    running: number;
  } {
    return {
      enabled: this.config.workerEnabled,
      concurrency: this.config.concurrency,
      queues: this.worker.workedQueues,
      running: this.worker.runningCount,
    };
  }
}
