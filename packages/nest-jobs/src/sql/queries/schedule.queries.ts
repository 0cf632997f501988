import type { JobsTable } from '../jobs-table.js';
import { named, plannedPerCall } from './named-statement.js';

/** Epoch milliseconds of a timestamptz column (a number is cheaper to read than a timestamp). */
const epochMs = (column: string) =>
  `(extract(epoch FROM ${column}) * 1000)::float8`;

/** The columns the reader and the service show, of the schedules row `s` and its last job `j`. */
const viewColumns = `s.name, s.job_type AS "jobType", s.cron, s.time_zone AS "timeZone",
  s.payload::text AS payload, s.options::text AS options, s.declared, s.version,
  ${epochMs('s.next_run_at')} AS "nextRunMs", ${epochMs('s.paused_at')} AS "pausedAtMs",
  ${epochMs('s.last_run_at')} AS "lastRunMs", s.last_job_id AS "lastJobId",
  j.status AS "lastJobStatus", ${epochMs('s.created_at')} AS "createdAtMs",
  ${epochMs('s.updated_at')} AS "updatedAtMs"`;

/**
 * The schedules table (recurring jobs). Every statement that needs the time reads the
 * database's `now()` here, never the process clock: instances must agree on what is due.
 */
export const scheduleQueries = (t: JobsTable) => ({
  /** The database's now, epoch milliseconds (to compute a first next run from). */
  scheduleClock: named(
    t,
    'schedule_clock',
    `SELECT ${epochMs('now()')} AS "nowMs"`,
  ),
  /**
   * $1 job types varchar[] (the handlers of this instance), $2 limit: locks the unpaused
   * schedules due now, oldest next run first, skipping those another instance holds (its
   * tick enqueues them). With the database's now, read in the same statement.
   */
  claimDueSchedules: named(
    t,
    'claim_due_schedules',
    `SELECT name, job_type AS "jobType", cron, time_zone AS "timeZone",
            payload::text AS payload, options::text AS options,
            ${epochMs('next_run_at')} AS "nextRunMs", ${epochMs('now()')} AS "nowMs"
     FROM ${t.schedulesQualified}
     WHERE paused_at IS NULL AND next_run_at <= now() AND job_type = ANY($1::varchar[])
     ORDER BY next_run_at
     LIMIT $2
     FOR UPDATE SKIP LOCKED`,
  ),
  /**
   * $1 names varchar[], $2 next runs timestamptz[] (null: no further occurrence), $3 last
   * runs timestamptz[] and $4 last job ids uuid[] (null: keep the stored one): what a tick
   * wrote, in the transaction that holds the rows' locks.
   */
  advanceSchedules: plannedPerCall(
    t,
    'advance_schedules',
    `UPDATE ${t.schedulesQualified} AS s
     SET next_run_at = v.next_run_at,
         last_run_at = COALESCE(v.last_run_at, s.last_run_at),
         last_job_id = COALESCE(v.last_job_id, s.last_job_id),
         updated_at = now()
     FROM unnest($1::varchar[], $2::timestamptz[], $3::timestamptz[], $4::uuid[])
       AS v(name, next_run_at, last_run_at, last_job_id)
     WHERE s.name = v.name`,
  ),
  /**
   * A declared schedule at start-up: $1 name, $2 job_type, $3 cron, $4 time zone, $5
   * payload json, $6 options json, $7 version, $8 definition hash, $9 next run. Inserts it,
   * or replaces the stored one when that is a run-time schedule, an older version, or the
   * same version with another definition (the last start wins); a higher stored version is
   * kept. The next run is kept when the expression and zone did not change. Returns
   * `written` (whether this declaration is stored now) and the stored version.
   */
  upsertDeclaredSchedule: named(
    t,
    'upsert_declared_schedule',
    `WITH written AS (
       INSERT INTO ${t.schedulesQualified} AS s
         (name, job_type, cron, time_zone, payload, options, declared, version, definition_hash, next_run_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, true, $7, $8, $9)
       ON CONFLICT (name) DO UPDATE SET
         job_type = EXCLUDED.job_type, payload = EXCLUDED.payload, options = EXCLUDED.options,
         declared = true, version = EXCLUDED.version, definition_hash = EXCLUDED.definition_hash,
         next_run_at = CASE WHEN s.cron = EXCLUDED.cron AND s.time_zone = EXCLUDED.time_zone
                              AND s.next_run_at IS NOT NULL
                            THEN s.next_run_at ELSE EXCLUDED.next_run_at END,
         cron = EXCLUDED.cron, time_zone = EXCLUDED.time_zone, updated_at = now()
       WHERE NOT s.declared OR s.version < EXCLUDED.version
          OR (s.version = EXCLUDED.version AND s.definition_hash IS DISTINCT FROM EXCLUDED.definition_hash)
       RETURNING version)
     SELECT true AS written, version FROM written
     UNION ALL
     SELECT false, version FROM ${t.schedulesQualified}
     WHERE name = $1 AND NOT EXISTS (SELECT 1 FROM written)`,
  ),
  /**
   * A run-time schedule: $1 name, $2 job_type, $3 cron, $4 time zone, $5 payload json,
   * $6 options json, $7 definition hash, $8 next run. Returns a row when inserted (none: the
   * name exists).
   */
  insertSchedule: named(
    t,
    'insert_schedule',
    `INSERT INTO ${t.schedulesQualified}
       (name, job_type, cron, time_zone, payload, options, declared, version, definition_hash, next_run_at)
     VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, false, 1, $7, $8)
     ON CONFLICT (name) DO NOTHING
     RETURNING name`,
  ),
  /**
   * $1 name, then the definition as insertSchedule's $2..$8: replaces it (the next run
   * recomputed from now by the caller). Returns a row when the schedule exists.
   */
  updateSchedule: named(
    t,
    'update_schedule',
    `UPDATE ${t.schedulesQualified}
     SET job_type = $2, cron = $3, time_zone = $4, payload = $5::jsonb, options = $6::jsonb,
         definition_hash = $7, next_run_at = $8, updated_at = now()
     WHERE name = $1
     RETURNING name`,
  ),
  /** $1 name: pauses it (no occurrence is enqueued until resumed). Returns a row when it exists. */
  pauseSchedule: named(
    t,
    'pause_schedule',
    `UPDATE ${t.schedulesQualified}
     SET paused_at = COALESCE(paused_at, now()), updated_at = now()
     WHERE name = $1
     RETURNING name`,
  ),
  /**
   * $1 name, $2 next run: resumes it from its next occurrence after now (those that fell in
   * the pause are not enqueued). Returns a row when it exists.
   */
  resumeSchedule: named(
    t,
    'resume_schedule',
    `UPDATE ${t.schedulesQualified}
     SET next_run_at = CASE WHEN paused_at IS NULL THEN next_run_at ELSE $2 END,
         paused_at = NULL, updated_at = now()
     WHERE name = $1
     RETURNING name`,
  ),
  /** $1 name. Returns a row when it existed. */
  deleteSchedule: named(
    t,
    'delete_schedule',
    `DELETE FROM ${t.schedulesQualified} WHERE name = $1 RETURNING name`,
  ),
  /**
   * $1 name, $2 job id: records a job enqueued by trigger-now as the schedule's last (its
   * next run is unchanged).
   */
  recordTriggeredJob: named(
    t,
    'record_triggered_job',
    `UPDATE ${t.schedulesQualified}
     SET last_run_at = now(), last_job_id = $2, updated_at = now()
     WHERE name = $1`,
  ),
  /**
   * $1 name or null (every schedule): the schedules with their next and last run and the
   * status of their last job (null: none yet, or retention removed it), by name.
   */
  listSchedules: named(
    t,
    'list_schedules',
    `SELECT ${viewColumns}
     FROM ${t.schedulesQualified} s
     LEFT JOIN ${t.qualified} j ON j.id = s.last_job_id
     WHERE $1::varchar IS NULL OR s.name = $1
     ORDER BY s.name`,
  ),
});
