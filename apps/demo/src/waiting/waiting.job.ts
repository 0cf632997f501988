import { Injectable } from '@nestjs/common';
import { Job, SnoozeJob, type JobContext } from 'nest-jobs';

/** Payload of the waiting job: when the resource it waits for is ready (epoch ms). */
export interface WaitingPayload {
  readyAt: number;
  steps: number;
}

/** Longest snooze: the job looks again at least this often. */
const SNOOZE_MS = 500;

/**
 * Waits for a resource without holding a worker slot or using up attempts: until `readyAt`
 * it snoozes (GET /jobs/:id shows `releases` counting the snoozes and `attempts` staying
 * at 0 between runs), then works in `steps` steps, reporting its progress (`progress` on
 * the row, `job.progress` in GET /events).
 */
@Injectable()
export class WaitingJob {
  @Job({ name: 'demo.waiting', maxRetries: 0 })
  async run(payload: WaitingPayload, ctx: JobContext): Promise<void> {
    const waitMs = payload.readyAt - Date.now();
    if (waitMs > 0) throw new SnoozeJob(Math.min(waitMs, SNOOZE_MS));
    for (let step = 1; step <= payload.steps; step += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      ctx.progress({ step, of: payload.steps });
    }
  }
}
