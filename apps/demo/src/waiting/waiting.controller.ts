import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { JobsService } from 'nest-jobs';
import { optionalInteger } from '../common/input-fields.js';
import { ParseInputPipe } from '../common/parse-input.pipe.js';
import { WaitingJob } from './waiting.job.js';

interface WaitingInput {
  readyInMs: number;
  steps: number;
}

const parseWaiting = (input: Record<string, unknown>): WaitingInput => ({
  readyInMs:
    optionalInteger(input, 'readyInMs', { min: 0, max: 60_000 }) ?? 2_000,
  steps: optionalInteger(input, 'steps', { min: 1, max: 50 }) ?? 10,
});

/** POST /waiting. */
@Controller('waiting')
export class WaitingController {
  constructor(private readonly jobs: JobsService) {}

  /**
   * Enqueues a job that snoozes until its resource is ready (in `readyInMs`, 2 s by
   * default), then reports its progress over `steps` steps; read it with GET /jobs/:id.
   */
  @Post()
  @HttpCode(202)
  async create(
    @Body(new ParseInputPipe(parseWaiting)) input: WaitingInput,
  ): Promise<{ jobId: string }> {
    return {
      jobId: await this.jobs.enqueue(WaitingJob, 'run', {
        readyAt: Date.now() + input.readyInMs,
        steps: input.steps,
      }),
    };
  }
}
