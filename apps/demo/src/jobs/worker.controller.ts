import { Controller, Get, Inject } from '@nestjs/common';
import { JobsWorkerStatus, type WorkerStatusSnapshot } from 'nest-jobs';
import { DEMO_CONFIG, type DemoConfig } from '../config/demo-config.js';

/** What this process's worker is doing right now (JobsWorkerStatus, the worker's read model). */
@Controller('worker')
export class WorkerController {
  constructor(
    private readonly worker: JobsWorkerStatus,
    @Inject(DEMO_CONFIG) private readonly config: DemoConfig,
  ) {}

  @Get()
  status(): WorkerStatusSnapshot & { enabled: boolean } {
    return { enabled: this.config.workerEnabled, ...this.worker.snapshot() };
  }
}
