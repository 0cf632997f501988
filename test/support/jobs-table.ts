import type { JobAttemptError, JobStatus } from 'nest-jobs';
import type { TestDatabase } from './test-database.js';
import { waitFor } from './wait-for.js';

/** A job state as stored (lowercase), derived from the library's one list of states. */
export type JobStatusName = `${JobStatus}`;

/** A row of the jobs table as the tests read it. */
export interface JobRow {
  id: string;
  queue: string;
  job_type: string;
  payload: any;
  status: JobStatusName;
  attempts: number;
  releases: number;
  max_retries: number;
  run_at: Date;
  started_at: Date | null;
  locked_until: Date | null;
  finished_at: Date | null;
  last_error: string | null;
  trace_id: string | null;
  retry_policy: any;
  created_at: Date;
  progress: unknown;
  attempt_errors: JobAttemptError[] | null;
}

export async function jobRow(
  db: TestDatabase,
  id: string,
): Promise<JobRow | undefined> {
  const [row] = await db.query<JobRow>(
    'SELECT * FROM nest_jobs WHERE id = $1',
    [id],
  );
  return row;
}

export async function jobRows(
  db: TestDatabase,
  where = 'true',
  values: unknown[] = [],
): Promise<JobRow[]> {
  return db.query<JobRow>(
    `SELECT * FROM nest_jobs WHERE ${where} ORDER BY created_at, id`,
    values,
  );
}

/**
 * A time on the database's clock: `now()` of the writing statement plus `offset`, a
 * PostgreSQL interval such as `'-5 s'` or `'1 minute'`. Rows a worker compares with its own
 * `now()` (leases, run_at, retention) stay consistent whatever the test process's clock says.
 */
export class DatabaseTime {
  constructor(readonly offset: string) {}
}

/** `now()` of the writing statement, plus `offset` (an interval, e.g. `'-1 s'`). */
export function dbNow(offset = '0 s'): DatabaseTime {
  return new DatabaseTime(offset);
}

type Timestamp = Date | DatabaseTime | null;

/**
 * Column values of a row written by a test. A column left out keeps the table's default
 * (insert) or its current value (update). `payload` and `retry_policy` are sent as JSON;
 * `null` is SQL NULL in every column.
 */
export interface JobRowValues {
  id?: string;
  queue?: string;
  job_type?: string;
  payload?: unknown;
  status?: JobStatusName;
  attempts?: number;
  releases?: number;
  max_retries?: number;
  run_at?: Timestamp;
  started_at?: Timestamp;
  locked_until?: Timestamp;
  finished_at?: Timestamp;
  last_error?: string | null;
  trace_id?: string | null;
  retry_policy?: unknown;
  created_at?: Timestamp;
  progress?: unknown;
  attempt_errors?: unknown;
  priority?: number;
  unique_key?: string | null;
  unique_states?: number | null;
}

/**
 * The columns a test may write and how their values are sent. Column names are checked
 * against it; values always go as parameters.
 */
const COLUMNS: Readonly<
  Record<keyof JobRowValues, 'value' | 'json' | 'timestamp'>
> = {
  id: 'value',
  queue: 'value',
  job_type: 'value',
  payload: 'json',
  status: 'value',
  attempts: 'value',
  releases: 'value',
  max_retries: 'value',
  run_at: 'timestamp',
  started_at: 'timestamp',
  locked_until: 'timestamp',
  finished_at: 'timestamp',
  last_error: 'value',
  trace_id: 'value',
  retry_policy: 'json',
  created_at: 'timestamp',
  progress: 'json',
  attempt_errors: 'json',
  priority: 'value',
  unique_key: 'value',
  unique_states: 'value',
};

/** Column names and SQL expressions for `values`, whose values are appended to `params`. */
function columnValues(
  values: JobRowValues,
  params: unknown[],
): Array<{ column: string; expression: string }> {
  return Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([column, value]) => {
      const kind = Object.hasOwn(COLUMNS, column)
        ? COLUMNS[column as keyof JobRowValues]
        : undefined;
      if (!kind) throw new Error(`Unknown column of nest_jobs: ${column}`);
      if (value instanceof DatabaseTime) {
        if (kind !== 'timestamp')
          throw new Error(`${column} is not a timestamp column`);
        params.push(value.offset);
        return { column, expression: `now() + $${params.length}::interval` };
      }
      if (kind === 'json') {
        params.push(value === null ? null : JSON.stringify(value));
        return { column, expression: `$${params.length}::jsonb` };
      }
      params.push(value);
      return { column, expression: `$${params.length}` };
    });
}

/**
 * Writes a row into the jobs table as something other than the library would (a worker
 * that died, another version, a hand-written job): only the columns given, the table's
 * defaults for the rest. Sends no NOTIFY. Returns the row as stored.
 */
export async function insertJobRow(
  db: TestDatabase,
  values: JobRowValues & { job_type: string },
): Promise<JobRow> {
  const params: unknown[] = [];
  const columns = columnValues(values, params);
  const [row] = await db.query<JobRow>(
    `INSERT INTO nest_jobs (${columns.map((c) => c.column).join(', ')})
     VALUES (${columns.map((c) => c.expression).join(', ')}) RETURNING *`,
    params,
  );
  return row!;
}

/**
 * Puts the row `id` into a state (as another worker or an older attempt would have left
 * it): sets only the columns given. Returns the row as stored; throws when there is none.
 */
export async function updateJobRow(
  db: TestDatabase,
  id: string,
  values: JobRowValues,
): Promise<JobRow> {
  const params: unknown[] = [];
  const columns = columnValues(values, params);
  if (columns.length === 0) throw new Error('updateJobRow: no column to set');
  params.push(id);
  const [row] = await db.query<JobRow>(
    `UPDATE nest_jobs SET ${columns.map((c) => `${c.column} = ${c.expression}`).join(', ')}
     WHERE id = $${params.length} RETURNING *`,
    params,
  );
  if (!row) throw new Error(`updateJobRow: no job ${id}`);
  return row;
}

/**
 * Polls the row `id` until its status is `status` (or one of `status`), and returns that
 * row; fails after `timeoutMs` (10 s by default) naming the status it saw last.
 */
export async function waitForStatus(
  db: TestDatabase,
  id: string,
  status: JobStatusName | readonly JobStatusName[],
  { timeoutMs }: { timeoutMs?: number } = {},
): Promise<JobRow> {
  const wanted: readonly string[] =
    typeof status === 'string' ? [status] : status;
  let seen = 'no row';
  return waitFor(
    `job ${id} to be ${wanted.join(' or ')}`,
    async () => {
      const row = await jobRow(db, id);
      seen = row ? row.status : 'no row';
      return row && wanted.includes(row.status) ? row : undefined;
    },
    timeoutMs === undefined ? {} : { timeoutMs },
  ).catch((error: Error) => {
    throw new Error(`${error.message} (last seen: ${seen})`);
  });
}
