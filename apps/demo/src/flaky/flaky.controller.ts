import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { JobsService } from 'nest-jobs';
import { optionalInteger } from '../common/input-fields.js';
import { ParseInputPipe } from '../common/parse-input.pipe.js';
import { FlakyJob, type FlakyPayload } from './flaky.job.js';

const parseFlaky = (input: Record<string, unknown>): FlakyPayload => ({
  // Up to 5: with maxRetries 4, a value of 5 shows a job that fails for good.
  failures: optionalInteger(input, 'failures', { min: 0, max: 5 }) ?? 2,
});

/** POST /flaky. */
@Controller('flaky')
export class FlakyController {
  constructor(private readonly jobs: JobsService) {}

  /** Enqueues a job that fails its first attempts (2 by default) and then succeeds. */
  @Post()
  @HttpCode(202)
  async create(
    @Body(new ParseInputPipe(parseFlaky)) payload: FlakyPayload,
  ): Promise<{ jobId: string }> {
    return { jobId: await this.jobs.enqueue(FlakyJob, 'run', payload) };
  }
}
