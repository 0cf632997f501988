import { Logger } from '@nestjs/common';
import type { JobsEvents } from '../events/jobs-events.js';
import { describeError } from '../utils/describe-error.js';

/**
 * Counts claims that failed in a row (database down, connection lost) and says so without
 * flooding the log during an outage: the first failure and every tenth are logged, and the
 * first success after them. Each failure is also an event, for metrics and health checks.
 */
export class ClaimFailures {
  private readonly logger = new Logger('JobsWorker');
  private failures = 0;

  constructor(private readonly events: JobsEvents) {}

  get inARow(): number {
    return this.failures;
  }

  succeeded(): void {
    if (this.failures > 0)
      this.logger.log('Database reachable again: claiming resumed');
    this.failures = 0;
  }

  failed(error: unknown): void {
    this.failures += 1;
    if (this.failures === 1 || this.failures % 10 === 0) {
      this.logger.error(
        `Could not claim jobs (${this.failures} failure(s) in a row); retrying at the next poll: ${describeError(error)}`,
      );
    }
    this.events.emit('worker.claim-failed', {
      error,
      failuresInARow: this.failures,
    });
  }
}
