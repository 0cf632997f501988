import { serializePayload } from '../enqueue/payload-serializer.js';
import { InvalidCheckpointError } from '../errors/invalid-checkpoint.error.js';
import { InvalidPayloadError } from '../errors/invalid-payload.error.js';
import { InvalidProgressError } from '../errors/invalid-progress.error.js';
import { COLUMN_LIMITS } from '../jobs.constants.js';

/**
 * The JSON text of a state given to `ctx.checkpoint`, checked as a payload is (exactly as
 * given, text PostgreSQL accepts) and at most COLUMN_LIMITS.checkpointBytes. Throws
 * InvalidCheckpointError.
 */
export function serializeCheckpoint(jobName: string, state: unknown): string {
  return serializeAs(
    'checkpoint',
    jobName,
    state,
    COLUMN_LIMITS.checkpointBytes,
    InvalidCheckpointError,
  );
}

/**
 * The JSON text of a value given to `ctx.progress`, checked as a payload is and at most
 * COLUMN_LIMITS.progressBytes. A finite number, the usual case, skips the walk. Throws
 * InvalidProgressError.
 */
export function serializeProgress(jobName: string, value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value))
    return JSON.stringify(value);
  return serializeAs(
    'progress',
    jobName,
    value,
    COLUMN_LIMITS.progressBytes,
    InvalidProgressError,
  );
}

/** serializePayload's checks, with the payload's error told as the `ctx.<what>` one. */
function serializeAs(
  what: 'checkpoint' | 'progress',
  jobName: string,
  value: unknown,
  maxBytes: number,
  ErrorOf: new (jobName: string, path: string, problem: string) => Error,
): string {
  try {
    return serializePayload(jobName, value, maxBytes);
  } catch (error) {
    if (!(error instanceof InvalidPayloadError)) throw error;
    throw new ErrorOf(
      jobName,
      error.path.replace(/^payload/, what),
      error.problem.replace('(option maxPayloadBytes)', `(ctx.${what})`),
    );
  }
}
