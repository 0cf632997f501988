import { Injectable } from '@nestjs/common';
import { Job, type JobContext } from 'nest-jobs';

/** Payload of the flaky job: how many attempts fail before one succeeds. */
export interface FlakyPayload {
  failures: number;
}

/**
 * Fails its first `failures` attempts, then succeeds: watch the worker log a warning with
 * the backoff for each failed attempt, and `attempts` / `last_error` on the row. The retry
 * base comes from the module options (DEMO_RETRY_BASE_MS, 500 ms by default); this job
 * only caps the backoff and allows 4 retries (5 attempts in all).
 */
@Injectable()
export class FlakyJob {
  @Job({ name: 'demo.flaky', maxRetries: 4, retry: { capMs: 5_000 } })
  async run(payload: FlakyPayload, ctx: JobContext): Promise<void> {
    if (ctx.attempt <= payload.failures) {
      throw new Error(
        `Simulated failure at attempt ${ctx.attempt} (succeeds at attempt ${payload.failures + 1})`,
      );
    }
    ctx.logger.log(`Succeeded at attempt ${ctx.attempt}`);
  }
}
