import { Inject, Injectable } from '@nestjs/common';
import type { EnqueueOutcome } from '../enqueue/enqueue-outcome.interface.js';
import { JobWriter } from '../enqueue/job-writer.js';
import { settleValidations } from '../enqueue/prepare-job.js';
import { DuplicateScheduleError } from '../errors/duplicate-schedule.error.js';
import { InvalidScheduleError } from '../errors/invalid-schedule.error.js';
import { ScheduleNotFoundError } from '../errors/schedule-not-found.error.js';
import { describeValue } from '../errors/invalid-options.error.js';
import { JobsEvents } from '../events/jobs-events.js';
import { describeError } from '../utils/describe-error.js';
import { JobHandlerRegistry } from '../handlers/job-handler.registry.js';
import { JOBS_RESOLVED_OPTIONS } from '../jobs.constants.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { ScheduleRepository } from '../sql/schedule.repository.js';
import { parseCronExpression } from './cron-expression.js';
import { occurrenceUnique, prepareOccurrenceJob } from './occurrence-jobs.js';
import {
  checkScheduleName,
  defineSchedule,
  readStoredSettings,
  type ScheduleDefinition,
} from './schedule-definition.js';
import type {
  NewSchedule,
  ScheduleChanges,
} from './schedule-options.interface.js';
import { toScheduleView, type ScheduleView } from './schedule-view.js';
import { storedDefinition } from './stored-definition.js';

/**
 * Recurring schedules at run time (the dashboard and CLI use it too): add, change, pause,
 * resume, remove, trigger now and list. Schedules are rows of the database, so a change
 * made on one instance holds for all of them at their next tick. Every argument is checked
 * before SQL; errors are typed (InvalidScheduleError, DuplicateScheduleError,
 * ScheduleNotFoundError).
 *
 * ```ts
 * await schedules.add({ name: 'digest:42', job: 'Digests.send', cron: '0 8 * * 1-5',
 *                       timeZone: 'America/New_York', payload: { userId: 42 } });
 * ```
 */
@Injectable()
export class JobsSchedules {
  constructor(
    @Inject(JOBS_RESOLVED_OPTIONS)
    private readonly options: ResolvedJobsOptions,
    private readonly repository: ScheduleRepository,
    private readonly registry: JobHandlerRegistry,
    private readonly writer: JobWriter,
    private readonly events: JobsEvents,
  ) {}

  /**
   * Adds a schedule; its first occurrence is the first after now (database clock).
   * @throws InvalidScheduleError (bad field, or `job` names no `@Job()` of this app),
   * DuplicateScheduleError (the name exists, declared or not).
   */
  async add(schedule: NewSchedule): Promise<ScheduleView> {
    const definition = await this.define(schedule);
    const inserted = await this.repository.insert(
      storedDefinition(definition),
      await this.nextRunAfterNow(definition),
    );
    if (!inserted) throw new DuplicateScheduleError(definition.name);
    this.changed(definition.name, 'added');
    return this.get(definition.name);
  }

  /**
   * Changes a schedule: fields not given keep their value; its next run is recomputed from
   * now. A declared schedule's change holds until an instance starts with a declaration
   * that differs from the stored one (see the manual).
   * @throws ScheduleNotFoundError, InvalidScheduleError.
   */
  async update(name: string, changes: ScheduleChanges): Promise<ScheduleView> {
    const current = await this.get(name);
    if (typeof changes !== 'object' || changes === null || 'name' in changes)
      throw new InvalidScheduleError(
        name,
        'changes',
        'expected an object of the fields to change (the name cannot change: add a new schedule)',
      );
    const keep = (key: string, value: unknown) =>
      value === null ? {} : { [key]: value };
    const definition = await this.define({
      name: current.name,
      job: current.job,
      cron: current.cron,
      timeZone: current.timeZone,
      payload: current.payload,
      ...keep('queue', current.queue),
      ...keep('priority', current.priority),
      ...keep('maxRetries', current.maxRetries),
      missed: current.missed,
      missedLimit: current.missedLimit,
      overlap: current.overlap,
      graceMs: current.graceMs,
      ...changes,
    });
    const updated = await this.repository.update(
      storedDefinition(definition),
      await this.nextRunAfterNow(definition),
    );
    if (!updated) throw new ScheduleNotFoundError(name);
    this.changed(name, 'updated');
    return this.get(name);
  }

  /** Pauses a schedule: no occurrence is enqueued until it is resumed. @throws ScheduleNotFoundError. */
  async pause(name: string): Promise<void> {
    const checked = checkScheduleName(name);
    if (!(await this.repository.pause(checked)))
      throw new ScheduleNotFoundError(checked);
    this.changed(checked, 'paused');
  }

  /**
   * Resumes a paused schedule at its first occurrence after now: occurrences that fell in
   * the pause are not enqueued. @throws ScheduleNotFoundError.
   */
  async resume(name: string): Promise<void> {
    const current = await this.get(name);
    let nextRunAt: Date | null = current.nextRunAt;
    if (current.pausedAt !== null) {
      const expression = parseCronExpression(current.cron, current.timeZone);
      const next = expression.next(await this.repository.clockMs());
      nextRunAt = next === null ? null : new Date(next);
    }
    if (!(await this.repository.resume(current.name, nextRunAt)))
      throw new ScheduleNotFoundError(current.name);
    this.changed(current.name, 'resumed');
  }

  /**
   * Removes a schedule (its jobs already enqueued stay). A declared schedule comes back at
   * the next start-up of an instance that declares it. @throws ScheduleNotFoundError.
   */
  async remove(name: string): Promise<void> {
    const checked = checkScheduleName(name);
    if (!(await this.repository.delete(checked)))
      throw new ScheduleNotFoundError(checked);
    this.changed(checked, 'removed');
  }

  /**
   * Enqueues the schedule's job now, outside its expression (its next run is unchanged),
   * paused or not. Under overlap `skip` it is a duplicate (nothing enqueued) while the
   * schedule's previous job waits or runs: the outcome says so, with that job's id.
   * @throws ScheduleNotFoundError; InvalidScheduleError when the job is not handled here.
   */
  async trigger(name: string): Promise<EnqueueOutcome> {
    const current = await this.get(name);
    const registered = this.registry.get(current.job);
    if (!registered)
      throw new InvalidScheduleError(
        current.name,
        'job',
        `names ${JSON.stringify(current.job)}, which no @Job() handler of this application handles`,
      );
    const settings = readStoredSettings(
      current.name,
      JSON.stringify({
        ...(current.queue !== null && { queue: current.queue }),
        ...(current.priority !== null && { priority: current.priority }),
        ...(current.maxRetries !== null && { maxRetries: current.maxRetries }),
        missed: current.missed,
        missedLimit: current.missedLimit,
        overlap: current.overlap,
        graceMs: current.graceMs,
      }),
    );
    const job = prepareOccurrenceJob(
      current.job,
      registered.definition,
      current.payload,
      settings,
      null,
      settings.overlap === 'skip'
        ? occurrenceUnique(current.name, settings, '')
        : false,
      this.options,
    );
    await settleValidations([job]);
    const [outcome] = await this.writer.writeWithOutcomes([job], undefined);
    if (!outcome!.duplicate) {
      await this.repository.recordTriggered(current.name, outcome!.id);
      if (this.events.has('schedule.enqueued'))
        this.events.emit('schedule.enqueued', {
          schedule: current.name,
          occurrence: new Date(await this.repository.clockMs()),
          jobId: outcome!.id,
          triggered: true,
        });
    }
    return outcome!;
  }

  /** The schedule `name`. @throws ScheduleNotFoundError. */
  async get(name: string): Promise<ScheduleView> {
    const checked = checkScheduleName(name);
    const [row] = await this.repository.list(checked);
    if (!row) throw new ScheduleNotFoundError(checked);
    return toScheduleView(row);
  }

  /** Every schedule, by name, with its next and last run and its last job's outcome. */
  async list(): Promise<ScheduleView[]> {
    return (await this.repository.list(null)).map(toScheduleView);
  }

  /**
   * Checks a schedule as stored, and its job as every occurrence will enqueue it (the
   * handler's `validate` included), before anything is written.
   */
  private async define(schedule: NewSchedule): Promise<ScheduleDefinition> {
    if (typeof schedule !== 'object' || schedule === null)
      throw new InvalidScheduleError(
        describeValue(schedule),
        'schedule',
        'expected an object ({ name, job, cron, ... })',
      );
    const definition = defineSchedule(schedule, this.options.maxPayloadBytes);
    const registered = this.registry.get(definition.jobType);
    if (!registered)
      throw new InvalidScheduleError(
        definition.name,
        'job',
        `names ${JSON.stringify(definition.jobType)}, which no @Job() handler of this application handles (known: ${this.registry.names().join(', ') || 'none'})`,
      );
    try {
      await settleValidations([
        prepareOccurrenceJob(
          definition.jobType,
          registered.definition,
          JSON.parse(definition.payloadJson),
          definition.settings,
          null,
          false,
          this.options,
        ),
      ]);
    } catch (error) {
      throw new InvalidScheduleError(
        definition.name,
        'payload',
        `is refused by the job: ${describeError(error)}`,
      );
    }
    return definition;
  }

  private async nextRunAfterNow(
    definition: ScheduleDefinition,
  ): Promise<Date | null> {
    const next = definition.expression.next(await this.repository.clockMs());
    return next === null ? null : new Date(next);
  }

  private changed(
    schedule: string,
    action: 'added' | 'updated' | 'paused' | 'resumed' | 'removed',
  ): void {
    if (this.events.has('schedule.changed'))
      this.events.emit('schedule.changed', { schedule, action });
  }
}
