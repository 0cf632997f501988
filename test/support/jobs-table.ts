import type { TestDatabase } from './test-database.js';

/** A row of the jobs table as the tests read it. */
export interface JobRow {
  id: string;
  queue: string;
  job_type: string;
  payload: any;
  status: string;
  attempts: number;
  max_retries: number;
  run_at: Date;
  started_at: Date | null;
  locked_until: Date | null;
  finished_at: Date | null;
  last_error: string | null;
  trace_id: string | null;
  retry_policy: any;
  created_at: Date;
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
