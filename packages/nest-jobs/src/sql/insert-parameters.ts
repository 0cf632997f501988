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

/**
 * The ids, attempt numbers and release counts of `attempts`, as three array literals ($1,
 * $2, $3 of the outcome writes).
 */
export function attemptArrays(
  attempts: readonly AttemptRef[],
): [string, string, string] {
  return [
    arrayLiteral(attempts.map((a) => a.id)),
    arrayLiteral(attempts.map((a) => a.attempt)),
    arrayLiteral(attempts.map((a) => a.releases)),
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

/**
 * Whether any row carries a unique key, a priority or a binary payload: then the rows go through insertFull,
 * and the plain statements above stay as they were for everyone else.
 */
export function needsFullInsert(rows: readonly NewJobRow[]): boolean {
  for (const row of rows)
    if (row.uniqueKey !== null || row.priority !== 0 || row.payloadBytes)
      return true;
  return false;
}

/**
 * Whether the rows differ only in id, payload and unique key (insertFullShared), none of
 * them binary (only insertFull's arrays carry bytes).
 */
export function sharesAllButIdPayloadAndKey(
  rows: readonly NewJobRow[],
): boolean {
  const first = rows[0]!;
  return (
    rows.every(
      (row) =>
        row.priority === first.priority &&
        row.uniqueStates === first.uniqueStates &&
        !row.payloadBytes,
    ) && sharesAllButIdAndPayload(rows)
  );
}

/** $1..$12 of insertFullShared (rows that sharesAllButIdPayloadAndKey accepted). */
export function insertFullSharedValues(rows: readonly NewJobRow[]): unknown[] {
  const first = rows[0]!;
  const keyed = rows.some((r) => r.uniqueKey !== null);
  return [
    ...insertManySharedValues(rows),
    first.priority,
    keyed ? JSON.stringify(rows.map((r) => r.uniqueKey)) : null,
    first.uniqueStates,
  ];
}

/** $1..$12 of insertOneFull. */
export function insertOneFullValues(row: NewJobRow): unknown[] {
  return [
    ...insertOneValues(row),
    row.priority,
    row.uniqueKey,
    row.uniqueStates,
  ];
}

/** $1..$13 of insertFull: insertMany's arrays plus priorities, keys, their states and binary payloads. */
export function insertFullValues(rows: readonly NewJobRow[]): unknown[] {
  return [
    ...insertManyValues(rows),
    rows.map((r) => r.priority),
    rows.map((r) => r.uniqueKey),
    rows.map((r) => r.uniqueStates),
    rows.map((r) => r.payloadBytes),
  ];
}

/** Whether any row carries an ordering key: then the rows go through insertOrdered. */
export function hasOrderingKey(rows: readonly NewJobRow[]): boolean {
  for (const row of rows) if (row.orderingKey !== null) return true;
  return false;
}

/** $1..$12 of insertOrdered: insertMany's arrays plus priorities, keys and whether each orders. */
export function insertOrderedValues(rows: readonly NewJobRow[]): unknown[] {
  return [
    ...insertManyValues(rows),
    rows.map((r) => r.priority),
    rows.map((r) => r.orderingKey),
    rows.map((r) => r.keySequenced),
  ];
}
