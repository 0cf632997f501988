import type { JobDefinition } from '../handlers/job-definition.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { prepareJob, type PreparedJob } from '../enqueue/prepare-job.js';
import type { UniqueOptions } from '../unique/unique-options.interface.js';
import type { ScheduleSettings } from './schedule-definition.js';

/** Every state: an occurrence's own key holds until retention removes its job. */
const EVERY_STATE: UniqueOptions['states'] = [
  'pending',
  'running',
  'completed',
  'failed',
  'cancelled',
];

/**
 * The unique key of a schedule's job. Overlap `skip`: the schedule's name alone, held while
 * its job waits or runs, so a second job of the schedule is a duplicate until the first one
 * finished. Overlap `allow`: the name and the occurrence, held in every state, so no race
 * (a second tick, trigger-now, a hand-written row) can enqueue one occurrence twice.
 */
export function occurrenceUnique(
  schedule: string,
  settings: Pick<ScheduleSettings, 'overlap'>,
  occurrence: string,
): UniqueOptions | false {
  if (settings.overlap === 'skip')
    return { key: `s:${schedule}`, states: ['pending', 'running'] };
  return { key: `s:${schedule}@${occurrence}`, states: EVERY_STATE };
}

/**
 * The job of one occurrence, checked like an enqueue (the stored payload and options went
 * through the same checks when the schedule was defined; a row changed by hand may fail
 * here). Runs at `occurrence`, which is now or already past (null: now, for trigger-now).
 */
export function prepareOccurrenceJob(
  jobType: string,
  definition: JobDefinition | undefined,
  payload: unknown,
  settings: ScheduleSettings,
  occurrence: Date | null,
  unique: UniqueOptions | false,
  module: ResolvedJobsOptions,
): PreparedJob {
  return prepareJob(
    jobType,
    definition,
    payload,
    {
      ...(occurrence !== null && { runAt: occurrence }),
      ...(settings.queue !== undefined && { queue: settings.queue }),
      ...(settings.priority !== undefined && { priority: settings.priority }),
      ...(settings.maxRetries !== undefined && {
        maxRetries: settings.maxRetries,
      }),
      unique,
    },
    module,
  );
}
