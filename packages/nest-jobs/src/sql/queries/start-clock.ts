import type { JobsTable } from '../jobs-table.js';

/**
 * The time the starts of a rate-limited claim of the queue $1 are counted and recorded at:
 * the transaction's `now()`, or the queue's latest recorded start when that is later. The
 * claims of such a queue run one at a time under its lock, but `now()` is read when each
 * transaction began, before it waited for the lock: a claim that began first and got the
 * lock second would count its window from an earlier time than the claim before it
 * recorded, and record its starts before that claim's, so a later window could miss them
 * and hold more than the limit. Never earlier than a recorded start, the times follow the
 * order of the claims, and each claim's window ends at its own starts: no window of the
 * recorded times holds more than the limit. One descent of `<table>_starts_idx`.
 */
export const startClock = (t: JobsTable) =>
  `GREATEST(now(), (SELECT max(c.started_at) FROM ${t.startsQualified} c WHERE c.queue = $1))`;

/** A claimed job's started_at: the start clock when the claim is rate limited ($n true). */
export const claimStartedAt = (t: JobsTable, rated: number) =>
  `CASE WHEN $${rated}::boolean THEN ${startClock(t)} ELSE now() END`;
