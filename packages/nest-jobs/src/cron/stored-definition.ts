import type { StoredDefinition } from '../sql/schedule.repository.js';
import type { ScheduleDefinition } from './schedule-definition.js';

/** A checked schedule as the statements store it. */
export function storedDefinition(
  definition: ScheduleDefinition,
): StoredDefinition {
  return {
    name: definition.name,
    jobType: definition.jobType,
    cron: definition.cron,
    timeZone: definition.timeZone,
    payloadJson: definition.payloadJson,
    optionsJson: JSON.stringify(definition.settings),
    hash: definition.hash,
  };
}
