// How much one insert statement may carry. Limits measured on PostgreSQL 15:
// - a jsonb value holds at most 268,435,455 bytes (2^28 - 1): a bigger one is refused with
//   54000 "total size of jsonb array elements exceeds the maximum" (or "string too long to
//   represent as jsonb string"). Even a JSON string whose text is exactly 268,435,455 bytes is
//   refused (a scalar is stored wrapped in an array, with headers). insertManyShared's one JSON
//   array of payloads is one such value: 255 payloads of 1 MB pass, 270 fail;
// - JSON text grows as jsonb by up to 6 times: an array of one-digit numbers takes 12 bytes
//   per element for 2 characters (strings, `true`, `{}` take 1 to 3 times their text);
// - one array holds at most 16,777,216 elements: parsing one more asks for 1 GB at once and
//   fails with XX000 "invalid memory alloc request size 1073741824" (its JSON is 32 MiB);
// - a text value, an array value and a protocol message are bounded by 1 GB.
import type { NewJobRow } from './job-rows.js';

/** The most one insert statement carries, in rows and in characters of payload JSON. */
export interface InsertBudget {
  readonly maxRows: number;
  /**
   * Characters (UTF-16 units) of payload JSON: at most 3 bytes of UTF-8 and 6 bytes of
   * jsonb each, so 16 Mi characters stay below every limit above with room to spare.
   */
  readonly maxPayloadChars: number;
}

/** What one insert statement carries at most: a larger enqueueMany is sent as several. */
export const STATEMENT_BUDGET: InsertBudget = {
  maxRows: 5_000,
  maxPayloadChars: 16 * 1024 * 1024,
};

/** Characters of payload the rows carry (binary payloads travel as hex, two per byte). */
export function payloadChars(rows: readonly NewJobRow[]): number {
  let chars = 0;
  for (const row of rows) chars += rowChars(row);
  return chars;
}

function rowChars(row: NewJobRow): number {
  return row.payloadJson.length + (row.payloadBytes?.length ?? 0) * 2;
}

/** Whether the rows fit one statement of `budget`. */
export function fitsOneStatement(
  rows: readonly NewJobRow[],
  budget: InsertBudget = STATEMENT_BUDGET,
): boolean {
  return (
    rows.length <= budget.maxRows &&
    payloadChars(rows) <= budget.maxPayloadChars
  );
}

/**
 * The rows cut, in order, into runs that each fit one statement of `budget`; a row larger
 * than the budget on its own is a run of its own (the payload limit bounds a single row).
 */
export function splitIntoStatements(
  rows: readonly NewJobRow[],
  budget: InsertBudget = STATEMENT_BUDGET,
): NewJobRow[][] {
  const runs: NewJobRow[][] = [];
  let start = 0;
  let chars = 0;
  for (let i = 0; i < rows.length; i += 1) {
    const rowSize = rowChars(rows[i]!);
    if (
      i > start &&
      (i - start >= budget.maxRows || chars + rowSize > budget.maxPayloadChars)
    ) {
      runs.push(rows.slice(start, i));
      start = i;
      chars = 0;
    }
    chars += rowSize;
  }
  if (rows.length > start) runs.push(rows.slice(start));
  return runs;
}
