import type { EnqueuedJobInfo } from '../events/jobs-events.interface.js';
import { fromStoredMaxRetries } from '../retry/unlimited-retries.js';
import type { PreparedJob } from './prepare-job.js';

/** A prepared job as `job.enqueued` lists it (enqueues and schedule ticks alike). */
export function enqueuedInfo({ row, payload }: PreparedJob): EnqueuedJobInfo {
  return Object.freeze({
    id: row.id,
    name: row.jobType,
    queue: row.queue,
    payload,
    maxRetries: fromStoredMaxRetries(row.maxRetries),
    runAt: row.runAt,
    delayMs: row.delayMs,
    traceId: row.traceId,
    priority: row.priority,
    orderingKey: row.orderingKey,
  });
}
