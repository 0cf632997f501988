import { Logger } from '@nestjs/common';
import { describeError } from '../utils/describe-error.js';

/**
 * The one timer loop of the worker's periodic work (lease heartbeat, lease rescue,
 * retention; next: cron, stats sampling): run, wait `intervalMs` after the run ended, run
 * again; never two runs of one task at once, however slow the database; a run that throws
 * is logged and the loop goes on. Subclasses implement `run()` and own their options.
 */
export abstract class PeriodicTask<Result = void> {
  protected readonly logger = new Logger('JobsWorker');
  private timer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;
  private running: Promise<Result | undefined> | null = null;

  protected constructor(
    /** For log lines: what this task does. */
    private readonly description: string,
    private readonly intervalMs: number,
  ) {}

  /** One run. May reject: the loop logs it and carries on. */
  protected abstract run(): Promise<Result>;

  /** Milliseconds from the end of a run to the next: the interval, unless a task needs sooner. */
  protected nextDelayMs(): number {
    return this.intervalMs;
  }

  /** Whether the task should be scheduled at all (e.g. retention kept forever: no sweep). */
  protected get enabled(): boolean {
    return true;
  }

  /** Starts the loop; the first run comes after `firstDelayMs` (default: one interval). */
  start(firstDelayMs = this.intervalMs): void {
    if (this.started || this.stopped || !this.enabled) return;
    this.started = true;
    this.schedule(firstDelayMs);
  }

  /** No further runs; a run in progress finishes on its own. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Resolves once the run in progress, if any, has ended (it never rejects). */
  async idle(): Promise<void> {
    await this.running;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Runs now, outside the schedule (tests, shutdown), or joins the run in progress.
   * Resolves with the run's result, or undefined when it failed (already logged).
   */
  runNow(): Promise<Result | undefined> {
    this.running ??= this.run().then(
      (result) => {
        this.running = null;
        return result;
      },
      (error: unknown) => {
        this.running = null;
        this.logger.warn(
          `Could not ${this.description}: ${describeError(error)}`,
        );
        return undefined;
      },
    );
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.runNow().then(() => this.schedule(this.nextDelayMs()));
    }, delayMs);
  }
}
