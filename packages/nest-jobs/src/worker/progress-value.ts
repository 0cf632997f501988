import { serializePayload } from '../enqueue/payload-serializer.js';
import { InvalidPayloadError } from '../errors/invalid-payload.error.js';
import { InvalidProgressError } from '../errors/invalid-progress.error.js';
import { COLUMN_LIMITS } from '../jobs.constants.js';

/**
 * The JSON text of a value given to `ctx.progress`, checked as a payload is (exactly as
 * given, text PostgreSQL accepts) and at most COLUMN_LIMITS.progressBytes. A finite number,
 * the usual case, skips the walk. Throws InvalidProgressError.
 */
export function serializeProgress(jobName: string, value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value))
    return JSON.stringify(value);
  try {
    return serializePayload(jobName, value, COLUMN_LIMITS.progressBytes);
  } catch (error) {
    if (!(error instanceof InvalidPayloadError)) throw error;
    throw new InvalidProgressError(
      jobName,
      error.path.replace(/^payload/, 'progress'),
      error.problem.replace('(option maxPayloadBytes)', '(ctx.progress)'),
    );
  }
}
