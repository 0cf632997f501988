// Rows to statement parameters, in the order the statements of
// queries/job-insert.queries.ts and queries/job-outcome.queries.ts document them.
import type { AttemptRef, NewJobRow } from './job-rows.js';

/**
 * A PostgreSQL array literal of values that need no quoting (UUIDs, integers), built by
 * hand: the driver would escape each element, for every job of every batch.
 */
function arrayLiteral(values: ReadonlyArray<string | number>): string {
  return `{${values.join(',')}}`;
}

/** The ids and the attempt numbers of `attempts`, as two array literals ($1, $2 of the outcome writes). */
export function attemptArrays(
  attempts: readonly AttemptRef[],
): [string, string] {
  return [
    arrayLiteral(attempts.map((a) => a.id)),
    arrayLiteral(attempts.map((a) => a.attempt)),
  ];
}

/** Due now, no trace id, no retry policy: the column defaults say the rest (insertOneDueNow). */
export function isPlainDueNow(row: NewJobRow): boolean {
  return (
    row.runAt === null &&
    row.delayMs === null &&
    row.traceId === null &&
    row.retryPolicyJson === null
  );
}

/** $1..$5 of insertOneDueNow. */
export function insertOneDueNowValues(row: NewJobRow): unknown[] {
  return [row.id, row.queue, row.jobType, row.payloadJson, row.maxRetries];
}

/** $1..$9 of insertOne. */
export function insertOneValues(row: NewJobRow): unknown[] {
  return [
    row.id,
    row.queue,
    row.jobType,
    row.payloadJson,
    row.maxRetries,
    row.runAt,
    row.delayMs,
    row.traceId,
    row.retryPolicyJson,
  ];
}

/** Whether the rows differ only in id and payload (enqueueMany of one handler, one set of options). */
export function sharesAllButIdAndPayload(rows: readonly NewJobRow[]): boolean {
  const first = rows[0]!;
  const firstRunAt = first.runAt?.getTime() ?? null;
  return rows.every(
    (row) =>
      row.queue === first.queue &&
      row.jobType === first.jobType &&
      row.maxRetries === first.maxRetries &&
      (row.runAt?.getTime() ?? null) === firstRunAt &&
      row.delayMs === first.delayMs &&
      row.traceId === first.traceId &&
      row.retryPolicyJson === first.retryPolicyJson,
  );
}

/** $1..$9 of insertManyShared (rows that sharesAllButIdAndPayload accepted). */
export function insertManySharedValues(rows: readonly NewJobRow[]): unknown[] {
  const first = rows[0]!;
  // Each payload is already a JSON text, so their join is a valid JSON array.
  return [
    arrayLiteral(rows.map((r) => r.id)),
    first.queue,
    first.jobType,
    `[${rows.map((r) => r.payloadJson).join(',')}]`,
    first.maxRetries,
    first.runAt,
    first.delayMs,
    first.traceId,
    first.retryPolicyJson,
  ];
}

/** $1..$9 of insertMany: one array per column. */
export function insertManyValues(rows: readonly NewJobRow[]): unknown[] {
  return [
    rows.map((r) => r.id),
    rows.map((r) => r.queue),
    rows.map((r) => r.jobType),
    rows.map((r) => r.payloadJson),
    rows.map((r) => r.maxRetries),
    rows.map((r) => r.runAt),
    rows.map((r) => r.delayMs),
    rows.map((r) => r.traceId),
    rows.map((r) => r.retryPolicyJson),
  ];
}
