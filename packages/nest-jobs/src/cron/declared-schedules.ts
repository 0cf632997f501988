import { Inject, Injectable, Logger } from '@nestjs/common';
import { DuplicateScheduleError } from '../errors/duplicate-schedule.error.js';
import { InvalidScheduleError } from '../errors/invalid-schedule.error.js';
import type { JobDefinition } from '../handlers/job-definition.js';
import { JOBS_RESOLVED_OPTIONS } from '../jobs.constants.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import type { ScheduleRepository } from '../sql/schedule.repository.js';
import type { RecurringMetadata } from './recurring.decorator.js';
import {
  defineSchedule,
  type ScheduleDefinition,
} from './schedule-definition.js';
import { storedDefinition } from './stored-definition.js';

/** A `@Recurring()` checked at start-up, with the handler that declared it. */
interface DeclaredSchedule {
  readonly definition: ScheduleDefinition;
  readonly where: string;
}

/**
 * The schedules this application declares with `@Recurring()`: checked when the explorer
 * finds them (module init: a bad expression, an unknown zone or a duplicate name fails
 * start-up naming the schedule), stored at bootstrap.
 */
@Injectable()
export class DeclaredSchedules {
  private readonly logger = new Logger('JobsSchedules');
  private readonly declared = new Map<string, DeclaredSchedule>();

  constructor(
    @Inject(JOBS_RESOLVED_OPTIONS)
    private readonly options: ResolvedJobsOptions,
  ) {}

  /**
   * Checks the `@Recurring()` declarations of the handler of `job`.
   * @throws InvalidScheduleError, DuplicateScheduleError naming the schedule.
   */
  collect(
    job: JobDefinition,
    declarations: readonly RecurringMetadata[],
  ): void {
    for (const declaration of declarations) {
      const { options, handlerName: where } = declaration;
      const name =
        (options as { name?: unknown } | undefined)?.name ?? job.name;
      if (
        options !== undefined &&
        (typeof options !== 'object' || options === null)
      )
        throw new InvalidScheduleError(
          String(name),
          'options',
          'expected an object',
          where,
        );
      if (declarations.length > 1 && options.name === undefined)
        throw new InvalidScheduleError(
          job.name,
          'name',
          'is required: this handler declares several schedules',
          where,
        );
      const definition = defineSchedule(
        {
          ...options,
          name: name as string,
          job: job.name,
          cron: declaration.cron as string,
        },
        this.options.maxPayloadBytes,
        where,
      );
      const existing = this.declared.get(definition.name);
      if (existing)
        throw new DuplicateScheduleError(definition.name, [
          existing.where,
          where,
        ]);
      this.declared.set(definition.name, { definition, where });
    }
  }

  get size(): number {
    return this.declared.size;
  }

  /**
   * Stores every declared schedule (see upsertDeclaredSchedule for what wins in a rolling
   * deploy): a new one starts at its next occurrence after the database's now.
   */
  async store(schedules: ScheduleRepository): Promise<void> {
    if (this.declared.size === 0) return;
    const nowMs = await schedules.clockMs();
    for (const { definition } of this.declared.values()) {
      const nextRunMs = definition.expression.next(nowMs);
      const { written, storedVersion } = await schedules.upsertDeclared(
        storedDefinition(definition),
        definition.version,
        nextRunMs === null ? null : new Date(nextRunMs),
      );
      if (!written && storedVersion > definition.version)
        this.logger.warn(
          `Schedule "${definition.name}": the stored declaration has version ${storedVersion}, newer than this instance's ${definition.version}; it is kept`,
        );
    }
  }
}
