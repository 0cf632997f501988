import { Logger } from '@nestjs/common';
import type { JobDefinition } from '../handlers/job-definition.js';
import { effectiveRetryPolicy } from '../handlers/job-definition.js';
import type { ClaimedJobRow } from '../sql/job-rows.js';
import { retryDelayMs } from './backoff.js';
import { checkRetryPolicy } from './retry-policy.js';
import { describeError } from '../utils/describe-error.js';
import type {
  ResolvedRetryPolicy,
  RetryPolicy,
} from './retry-policy.interface.js';

/**
 * When a failed attempt runs again: in how many milliseconds, or never (null) when the
 * error was fatal or the job has used up its retries. The policy is layered: the module's
 * default, the handler's `@Job({ retry })`, then the job's own (set at enqueue, stored on
 * the row).
 */
export function retryDelayAfterFailure(
  row: Pick<ClaimedJobRow, 'attempt' | 'maxRetries' | 'retryPolicy'>,
  fatal: boolean,
  moduleDefault: ResolvedRetryPolicy,
  definition: JobDefinition | undefined,
): number | null {
  if (fatal || row.attempt > row.maxRetries) return null;
  const policy = effectiveRetryPolicy(
    moduleDefault,
    definition,
    parseStoredPolicy(row.retryPolicy),
  );
  return retryDelayMs(policy, row.attempt);
}

/**
 * The row's `retry_policy` as text. Enqueue checks the policy before storing it, but a row
 * written by hand may hold anything: a policy those checks refuse is ignored (the handler's
 * and the module's apply), so the delay stays within MAX_RETRY_DELAY_MS and the retry can
 * always be recorded.
 */
function parseStoredPolicy(json: string | null): RetryPolicy | undefined {
  if (!json) return undefined;
  try {
    return checkRetryPolicy('retry_policy', JSON.parse(json));
  } catch (error) {
    logger.warn(
      `Ignoring a stored retry_policy that enqueue would have refused: ${describeError(error)}`,
    );
    return undefined;
  }
}

const logger = new Logger('JobsWorker');
