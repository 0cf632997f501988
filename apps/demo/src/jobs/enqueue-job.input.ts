import type { EnqueueOptions } from 'nest-jobs';

/** Body of POST /jobs: any registered job, by name. */
export interface EnqueueJobInput {
  name: string;
  payload: unknown;
  options: Pick<EnqueueOptions, 'delay' | 'queue' | 'maxRetries'>;
}

/**
 * Passes the fields through unchecked on purpose: this endpoint shows how nest-jobs itself
 * rejects an unknown name, a payload that is not JSON-safe or fails the job's `validate`,
 * and bad options, each as a 400 through JobsErrorsFilter.
 */
export function parseEnqueueJob(
  input: Record<string, unknown>,
): EnqueueJobInput {
  const options: EnqueueJobInput['options'] = {};
  if (input.delay !== undefined) options.delay = input.delay as number;
  if (input.queue !== undefined) options.queue = input.queue as string;
  if (input.maxRetries !== undefined)
    options.maxRetries = input.maxRetries as number;
  return { name: input.name as string, payload: input.payload ?? {}, options };
}
