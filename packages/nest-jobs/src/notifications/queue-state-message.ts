/**
 * The notification that tells every worker a queue was paused or resumed, on the jobs
 * channel beside the enqueue wake-ups (whose payload is a bare queue name, unchanged). Its
 * leading white space keeps it apart from them: no queue name may start with white space
 * (checkName refuses it), and a worker of an older version that reads it as a queue name
 * works no such queue and ignores it.
 */
const PAUSED = ' nest-jobs:paused ';
const RESUMED = ' nest-jobs:resumed ';

/** What a queue-state notification says. */
export interface QueueStateChange {
  readonly queue: string;
  readonly paused: boolean;
}

/** The payload announcing that `queue` was paused (or resumed). */
export function formatQueueStateMessage(change: QueueStateChange): string {
  return (change.paused ? PAUSED : RESUMED) + change.queue;
}

/** The change a payload announces, or null when it is not a queue-state notification. */
export function parseQueueStateMessage(
  payload: string,
): QueueStateChange | null {
  if (payload.startsWith(PAUSED))
    return { queue: payload.slice(PAUSED.length), paused: true };
  if (payload.startsWith(RESUMED))
    return { queue: payload.slice(RESUMED.length), paused: false };
  return null;
}
