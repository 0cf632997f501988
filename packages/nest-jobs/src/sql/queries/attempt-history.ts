import { COLUMN_LIMITS } from '../../jobs.constants.js';

/**
 * SQL of `attempt_errors` with one more entry (a JobAttemptError) for the attempt that
 * `job.attempts` counts: the array keeps the latest COLUMN_LIMITS.attemptHistoryLength
 * entries, oldest dropped first. A value that is not an array (written by hand) is
 * replaced rather than extended. `error` and `instance` are SQL expressions of text.
 */
export function appendAttemptError(
  kind: 'failed' | 'lease-expired',
  error: string,
  instance: string,
): string {
  const entry = `jsonb_build_object('attempt', job.attempts, 'at', now(), 'kind', '${kind}', 'error', ${error}, 'instance', ${instance})`;
  return `jsonb_path_query_array(
           CASE WHEN jsonb_typeof(job.attempt_errors) = 'array' THEN job.attempt_errors ELSE '[]'::jsonb END
             || jsonb_build_array(${entry}),
           '$[last - ${COLUMN_LIMITS.attemptHistoryLength - 1} to last]')`;
}
