import { Logger } from '@nestjs/common';
import type { JobsEvents } from '../events/jobs-events.js';
import type { JobsRepository } from '../sql/jobs.repository.js';
import { describeError } from '../utils/describe-error.js';
import type { HeldAttempt } from './held-attempt.js';

/**
 * Writes the progress handlers report, in batches: `ctx.progress` only keeps the latest
 * value on its attempt and, for the first unwritten value, arms one timer; when it fires,
 * the latest value of every attempt that reported one goes out in one statement, fenced by
 * attempt like every write. No timer runs and nothing is written while no handler reports
 * progress. A value still unwritten when its attempt ends is written just before the
 * outcome (see `takeFrom`). `job.progress` is emitted once per attempt per write, with the
 * value written: at most once per `intervalMs` per attempt, whatever the handler's rate.
 */
export class ProgressWriter {
  private readonly logger = new Logger('JobsWorker');
  private dirty: HeldAttempt[] = [];
  private timer: NodeJS.Timeout | undefined;
  /**
   * The timer's write while it is in flight: an outcome written meanwhile waits for it, or
   * the outcome could commit first and fence out the attempt's last value.
   */
  writing: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly repository: JobsRepository,
    private readonly events: JobsEvents,
    private readonly intervalMs: number,
  ) {}

  /** Records `json` as the attempt's latest progress, written within `intervalMs`. */
  report(job: HeldAttempt, json: string): void {
    if (this.stopped || !job.ownsAttempt || job.handlerDone) return;
    if (job.progressJson === undefined) this.dirty.push(job);
    job.progressJson = json;
    job.latestProgressJson = json;
    this.timer ??= setTimeout(() => {
      this.writing = this.flush().finally(() => (this.writing = null));
    }, this.intervalMs);
  }

  /** Writes now the unwritten progress of `jobs` (attempts about to get their outcome). */
  async writeNow(jobs: readonly HeldAttempt[]): Promise<void> {
    const values = this.take(jobs);
    if (values.length > 0) await this.write(values);
  }

  /** No further writes (shutdown: unfinished attempts are released, their progress dropped). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const job of this.dirty) job.progressJson = undefined;
    this.dirty = [];
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const jobs = this.dirty;
    this.dirty = [];
    const values = this.take(jobs.filter((job) => job.ownsAttempt));
    for (const job of jobs) job.progressJson = undefined;
    if (values.length === 0) return;
    try {
      await this.write(values);
    } catch (error) {
      // Progress is advisory: the next report (or the outcome) writes a newer value.
      this.logger.warn(
        `Could not write the progress of ${values.length} running job(s): ${describeError(error)}`,
      );
    }
  }

  /** The unwritten values of `jobs`, now counted as written. */
  private take(jobs: readonly HeldAttempt[]): ProgressValue[] {
    const values: ProgressValue[] = [];
    for (const job of jobs) {
      const json = job.progressJson;
      if (json === undefined) continue;
      job.progressJson = undefined;
      values.push({ job, json });
    }
    return values;
  }

  private async write(values: readonly ProgressValue[]): Promise<void> {
    await this.repository.writeProgress(
      values.map(({ job }) => job),
      values.map(({ json }) => json),
    );
    if (!this.events.has('job.progress')) return;
    for (const { job, json } of values)
      this.events.emit('job.progress', {
        job: job.info,
        value: JSON.parse(json) as unknown,
      });
  }
}

interface ProgressValue {
  readonly job: HeldAttempt;
  readonly json: string;
}

/** Where a JobContext sends `ctx.progress` reports: the writer, or a test's recorder. */
export type ProgressReports = Pick<ProgressWriter, 'report'>;
