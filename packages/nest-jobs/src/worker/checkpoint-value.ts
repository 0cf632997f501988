import { serializePayload } from '../enqueue/payload-serializer.js';
import { InvalidCheckpointError } from '../errors/invalid-checkpoint.error.js';
import { InvalidPayloadError } from '../errors/invalid-payload.error.js';
import { COLUMN_LIMITS } from '../jobs.constants.js';

/**
 * The JSON text of a state given to `ctx.checkpoint`, checked as a payload is (exactly as
 * given, text PostgreSQL accepts) and at most COLUMN_LIMITS.checkpointBytes. Throws
 * InvalidCheckpointError.
 */
export function serializeCheckpoint(jobName: string, state: unknown): string {
  try {
    return serializePayload(jobName, state, COLUMN_LIMITS.checkpointBytes);
  } catch (error) {
    if (!(error instanceof InvalidPayloadError)) throw error;
    throw new InvalidCheckpointError(
      jobName,
      error.path.replace(/^payload/, 'checkpoint'),
      error.problem.replace('(option maxPayloadBytes)', '(ctx.checkpoint)'),
    );
  }
}
