import 'reflect-metadata';
import { RECURRING_METADATA } from '../jobs.constants.js';
import type { JobHandlerMethod } from '../handlers/job.decorator.js';
import type { RecurringOptions } from './schedule-options.interface.js';

/** One `@Recurring()` of a method, as recorded; checked at start-up by the explorer. */
export interface RecurringMetadata {
  readonly cron: unknown;
  readonly options: RecurringOptions;
  /** `ClassName#methodName`, for error messages. */
  readonly handlerName: string;
}

/**
 * Enqueues the method's `@Job()` on a cron schedule, once per occurrence across every
 * instance of the application (the schedule lives in the database; see the manual,
 * "Recurring jobs"). Stack several for several schedules of one handler (each with its
 * own `name`).
 *
 * ```ts
 * @Recurring('0 3 * * *', { timeZone: 'Europe/Berlin', payload: { kind: 'daily' } })
 * @Job({ queue: 'reports' })
 * async dailyReport(payload: { kind: string }) { ... }
 * ```
 * `cron` has 5 fields, or 6 with seconds first. A bad expression, an unknown time zone, a
 * method without `@Job()` and two schedules with one name fail at application start-up.
 */
export function Recurring(cron: string, options: RecurringOptions = {}) {
  return <T extends JobHandlerMethod>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): void => {
    const method = descriptor.value as object;
    const existing = getRecurringMetadata(method);
    const metadata: RecurringMetadata = {
      cron,
      options,
      handlerName: `${target.constructor.name}#${String(propertyKey)}`,
    };
    Reflect.defineMetadata(RECURRING_METADATA, [...existing, metadata], method);
  };
}

/** The `@Recurring()` declarations of a method (none: an empty list). */
export function getRecurringMetadata(
  method: unknown,
): readonly RecurringMetadata[] {
  if (typeof method !== 'function') return [];
  return (
    (Reflect.getMetadata(RECURRING_METADATA, method) as
      readonly RecurringMetadata[] | undefined) ?? []
  );
}
