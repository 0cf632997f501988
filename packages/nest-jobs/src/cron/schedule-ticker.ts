import type { JobsEvents } from '../events/jobs-events.js';
import type { JobHandlerRegistry } from '../handlers/job-handler.registry.js';
import { enqueuedInfo } from '../enqueue/enqueued-info.js';
import { settleValidations, type PreparedJob } from '../enqueue/prepare-job.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { PeriodicTask } from '../maintenance/periodic-task.js';
import { describeError } from '../utils/describe-error.js';
import type {
  DueScheduleRow,
  ScheduleAdvance,
  ScheduleRepository,
} from '../sql/schedule.repository.js';
import type { SqlExecutor } from '../sql/sql-runner.js';
import { parseCronExpression } from './cron-expression.js';
import { planDueOccurrences } from './due-occurrences.js';
import { occurrenceUnique, prepareOccurrenceJob } from './occurrence-jobs.js';
import { readStoredSettings } from './schedule-definition.js';

/**
 * How long a tick waits for a job's asynchronous `validate` (it holds the schedules' locks
 * meanwhile): past it the occurrences are skipped as rejected, so a validator that never
 * settles cannot stall the ticks.
 */
export const TICK_VALIDATION_TIMEOUT_MS = 5_000;

function withinValidationDeadline(validation: Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `the job's validate did not settle within ${TICK_VALIDATION_TIMEOUT_MS} ms`,
          ),
        ),
      TICK_VALIDATION_TIMEOUT_MS,
    );
  });
  return Promise.race([validation, deadline]).finally(() =>
    clearTimeout(timer),
  );
}

type SkipEvent = {
  schedule: string;
  occurrence: Date | null;
  reason: 'missed' | 'overlap' | 'rejected' | 'invalid';
  heldBy?: string;
  error?: unknown;
  unlisted?: boolean;
};

/** What one tick decided for one schedule, before its jobs are inserted. */
interface ScheduleTick {
  readonly row: DueScheduleRow;
  readonly jobs: PreparedJob[];
  readonly occurrences: Date[];
  readonly nextRunAt: Date | null;
}

/** What a tick reports once committed. */
interface TickReport {
  claimed: number;
  enqueued: { schedule: string; occurrence: Date; job: PreparedJob }[];
  skipped: SkipEvent[];
}

/**
 * This instance's tick: in one transaction, locks the due schedules whose job it has a
 * handler for (FOR UPDATE SKIP LOCKED: a schedule another instance is ticking is left to
 * it), enqueues their occurrences as unique jobs and advances their next run; the events
 * follow the commit. Every instance ticks; none is a leader. A schedule whose job this
 * instance does not know (an older or newer version of the app) is left to instances that
 * know it.
 */
export class ScheduleTicker extends PeriodicTask<number> {
  private claimedFullBatch = false;

  constructor(
    private readonly schedules: ScheduleRepository,
    private readonly registry: JobHandlerRegistry,
    private readonly events: JobsEvents,
    private readonly module: ResolvedJobsOptions,
  ) {
    super('enqueue due schedules', module.schedules.pollIntervalMs);
  }

  /** Ticks again at once while due schedules remain beyond one batch. */
  protected override nextDelayMs(): number {
    return this.claimedFullBatch ? 0 : super.nextDelayMs();
  }

  /** One tick; resolves with how many schedules it claimed. */
  protected async run(): Promise<number> {
    const report: TickReport = { claimed: 0, enqueued: [], skipped: [] };
    await this.schedules.transaction((executor) => this.tick(executor, report));
    this.claimedFullBatch = report.claimed >= this.module.schedules.batchSize;
    this.emitAfterCommit(report);
    return report.claimed;
  }

  private async tick(executor: SqlExecutor, report: TickReport): Promise<void> {
    const due = await this.schedules.claimDue(
      executor,
      this.registry.names(),
      this.module.schedules.batchSize,
    );
    report.claimed = due.length;
    if (due.length === 0) return;
    const ticks: ScheduleTick[] = [];
    for (const row of due) ticks.push(await this.plan(row, report.skipped));
    const rows = ticks.flatMap((tick) => tick.jobs.map((job) => job.row));
    const inserted = new Map(
      rows.length === 0
        ? []
        : (await this.schedules.insertOccurrences(executor, rows)).map(
            (result) => [result.uniqueKey, result] as const,
          ),
    );
    const advances: ScheduleAdvance[] = [];
    for (const tick of ticks) {
      let lastRunAt: Date | null = null;
      let lastJobId: string | null = null;
      tick.jobs.forEach((job, i) => {
        const occurrence = tick.occurrences[i]!;
        const result = inserted.get(job.row.uniqueKey!);
        if (result && result.duplicate) {
          report.skipped.push({
            schedule: tick.row.name,
            occurrence,
            reason: 'overlap',
            heldBy: result.id,
          });
          return;
        }
        lastRunAt = occurrence;
        lastJobId = job.row.id;
        report.enqueued.push({ schedule: tick.row.name, occurrence, job });
      });
      advances.push({
        name: tick.row.name,
        nextRunAt: tick.nextRunAt,
        lastRunAt,
        lastJobId,
      });
    }
    await this.schedules.advance(executor, advances);
  }

  /**
   * The occurrences of one due schedule and their jobs. A schedule that cannot be read is
   * left dormant (no next run) and one whose jobs are refused skips its occurrences: either
   * way it advances, so one bad row never blocks the others or fires every tick.
   */
  private async plan(
    row: DueScheduleRow,
    skipped: SkipEvent[],
  ): Promise<ScheduleTick> {
    const schedule = row.name;
    let settings, expression, payload: unknown;
    try {
      settings = readStoredSettings(schedule, row.options);
      expression = parseCronExpression(row.cron, row.timeZone);
      payload = JSON.parse(row.payload);
    } catch (error) {
      skipped.push({ schedule, occurrence: null, reason: 'invalid', error });
      return { row, jobs: [], occurrences: [], nextRunAt: null };
    }
    const plan = planDueOccurrences(
      expression,
      row.nextRunMs,
      row.nowMs,
      settings,
    );
    const nextRunAt = plan.nextRunMs === null ? null : new Date(plan.nextRunMs);
    for (const ms of plan.skipped)
      skipped.push({ schedule, occurrence: new Date(ms), reason: 'missed' });
    if (plan.skippedUnlisted)
      skipped.push({
        schedule,
        occurrence: new Date(row.nextRunMs),
        reason: 'missed',
        unlisted: true,
      });
    let enqueue = plan.enqueue;
    if (settings.overlap === 'skip' && enqueue.length > 1) {
      // One job of the schedule at a time: the latest occurrence stands for the earlier.
      for (const ms of enqueue.slice(0, -1))
        skipped.push({ schedule, occurrence: new Date(ms), reason: 'overlap' });
      enqueue = enqueue.slice(-1);
    }
    const occurrences = enqueue.map((ms) => new Date(ms));
    try {
      const definition = this.registry.get(row.jobType)?.definition;
      const jobs = occurrences.map((occurrence) =>
        prepareOccurrenceJob(
          row.jobType,
          definition,
          payload,
          settings,
          occurrence,
          occurrenceUnique(schedule, settings, occurrence.toISOString()),
          this.module,
        ),
      );
      await withinValidationDeadline(settleValidations(jobs));
      return { row, jobs, occurrences, nextRunAt };
    } catch (error) {
      for (const occurrence of occurrences)
        skipped.push({ schedule, occurrence, reason: 'rejected', error });
      return { row, jobs: [], occurrences: [], nextRunAt };
    }
  }

  private emitAfterCommit(report: TickReport): void {
    for (const skip of report.skipped) {
      if (skip.reason === 'invalid' || skip.reason === 'rejected')
        this.logger.warn(
          `Schedule "${skip.schedule}" skipped an occurrence (${skip.reason}): ${describeError(skip.error)}`,
        );
    }
    if (report.enqueued.length > 0 && this.events.has('job.enqueued'))
      this.events.emit('job.enqueued', {
        jobs: report.enqueued.map(({ job }) => enqueuedInfo(job)),
        transactional: false,
      });
    if (this.events.has('schedule.enqueued'))
      for (const { schedule, occurrence, job } of report.enqueued)
        this.events.emit('schedule.enqueued', {
          schedule,
          occurrence,
          jobId: job.row.id,
          triggered: false,
        });
    if (this.events.has('schedule.skipped'))
      for (const skip of report.skipped)
        this.events.emit('schedule.skipped', skip);
  }
}
