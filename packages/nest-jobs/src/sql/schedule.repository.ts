import { insertFullValues } from './insert-parameters.js';
import { splitIntoStatements } from './insert-budget.js';
import type { NewJobRow } from './job-rows.js';
import type { JobsRepository } from './jobs.repository.js';
import type { SqlExecutor } from './sql-runner.js';

/** A due schedule, as a tick claimed it (its row is locked until the tick commits). */
export interface DueScheduleRow {
  readonly name: string;
  readonly jobType: string;
  readonly cron: string;
  readonly timeZone: string;
  /** JSON text. */
  readonly payload: string;
  /** JSON text (ScheduleSettings). */
  readonly options: string;
  readonly nextRunMs: number;
  /** The database's now at the claim. */
  readonly nowMs: number;
}

/** What a tick writes back to one schedule. */
export interface ScheduleAdvance {
  readonly name: string;
  readonly nextRunAt: Date | null;
  /** null: unchanged. */
  readonly lastRunAt: Date | null;
  /** null: unchanged. */
  readonly lastJobId: string | null;
}

/** One inserted (or duplicate) occurrence job. */
export interface OccurrenceInsert {
  readonly id: string;
  readonly uniqueKey: string;
  readonly duplicate: boolean;
}

/** A schedule as stored, with its last job's status. */
export interface ScheduleRow {
  readonly name: string;
  readonly jobType: string;
  readonly cron: string;
  readonly timeZone: string;
  readonly payload: string;
  readonly options: string;
  readonly declared: boolean;
  readonly version: number;
  readonly nextRunMs: number | null;
  readonly pausedAtMs: number | null;
  readonly lastRunMs: number | null;
  readonly lastJobId: string | null;
  readonly lastJobStatus: string | null;
  readonly createdAtMs: number;
  readonly updatedAtMs: number;
}

/** The definition columns of a schedule, as statements take them. */
export interface StoredDefinition {
  readonly name: string;
  readonly jobType: string;
  readonly cron: string;
  readonly timeZone: string;
  readonly payloadJson: string;
  readonly optionsJson: string;
  readonly hash: string;
}

const toNumber = (value: unknown): number | null =>
  value === null || value === undefined ? null : Number(value);

/** The schedules table's statements, sent through the jobs repository's runner. */
export class ScheduleRepository {
  constructor(private readonly jobs: JobsRepository) {}

  /** The database's now, epoch milliseconds. */
  async clockMs(): Promise<number> {
    const result = await this.jobs.sql.run(this.jobs.queries.scheduleClock, []);
    return Number(result.rows[0].nowMs);
  }

  /** Runs `work` in one transaction of its own (a tick: claim, enqueue, advance). */
  transaction(work: (executor: SqlExecutor) => Promise<void>): Promise<void> {
    return this.jobs.sql.transaction(work);
  }

  /** Locks up to `limit` due schedules of `jobTypes` (see claimDueSchedules). */
  async claimDue(
    executor: SqlExecutor,
    jobTypes: readonly string[],
    limit: number,
  ): Promise<DueScheduleRow[]> {
    // runOn gives the rows, on an EntityManager as on SqlRunner#transaction's connection.
    const rows: any[] = await this.jobs.sql.runOn(
      executor,
      this.jobs.queries.claimDueSchedules,
      [jobTypes, limit],
    );
    return rows.map((row) => ({
      ...row,
      nextRunMs: Number(row.nextRunMs),
      nowMs: Number(row.nowMs),
    }));
  }

  /**
   * Inserts occurrence jobs (all unique) in the tick's transaction, notifying the workers at
   * its commit; a row whose key another job holds is a duplicate and inserts nothing.
   */
  async insertOccurrences(
    executor: SqlExecutor,
    rows: readonly NewJobRow[],
  ): Promise<OccurrenceInsert[]> {
    const { sql, queries, jobsTable } = this.jobs;
    const returned: OccurrenceInsert[] = [];
    for (const run of splitIntoStatements(rows)) {
      const result: OccurrenceInsert[] = await sql.runOn(
        executor,
        queries.insertFullAndNotify,
        [...insertFullValues(run), jobsTable.channel],
      );
      returned.push(...result);
    }
    return returned;
  }

  /** Writes the ticks' results (next run, last run, last job) of the locked schedules. */
  async advance(
    executor: SqlExecutor,
    advances: readonly ScheduleAdvance[],
  ): Promise<void> {
    if (advances.length === 0) return;
    await this.jobs.sql.runOn(executor, this.jobs.queries.advanceSchedules, [
      advances.map((a) => a.name),
      advances.map((a) => a.nextRunAt),
      advances.map((a) => a.lastRunAt),
      advances.map((a) => a.lastJobId),
    ]);
  }

  /** Stores a declared schedule unless a newer declaration is stored (upsertDeclaredSchedule). */
  async upsertDeclared(
    definition: StoredDefinition,
    version: number,
    nextRunAt: Date | null,
  ): Promise<{ written: boolean; storedVersion: number }> {
    const result = await this.jobs.sql.run(
      this.jobs.queries.upsertDeclaredSchedule,
      [...definitionValues(definition), version, definition.hash, nextRunAt],
    );
    const row = result.rows[0];
    return {
      written: row.written === true,
      storedVersion: Number(row.version),
    };
  }

  /** Inserts a run-time schedule; false when the name exists. */
  async insert(
    definition: StoredDefinition,
    nextRunAt: Date | null,
  ): Promise<boolean> {
    const result = await this.jobs.sql.run(this.jobs.queries.insertSchedule, [
      ...definitionValues(definition),
      definition.hash,
      nextRunAt,
    ]);
    return result.rows.length > 0;
  }

  /** Replaces a schedule's definition; false when no schedule has the name. */
  async update(
    definition: StoredDefinition,
    nextRunAt: Date | null,
  ): Promise<boolean> {
    const result = await this.jobs.sql.run(this.jobs.queries.updateSchedule, [
      ...definitionValues(definition),
      definition.hash,
      nextRunAt,
    ]);
    return result.rows.length > 0;
  }

  async pause(name: string): Promise<boolean> {
    const result = await this.jobs.sql.run(this.jobs.queries.pauseSchedule, [
      name,
    ]);
    return result.rows.length > 0;
  }

  async resume(name: string, nextRunAt: Date | null): Promise<boolean> {
    const result = await this.jobs.sql.run(this.jobs.queries.resumeSchedule, [
      name,
      nextRunAt,
    ]);
    return result.rows.length > 0;
  }

  async delete(name: string): Promise<boolean> {
    const result = await this.jobs.sql.run(this.jobs.queries.deleteSchedule, [
      name,
    ]);
    return result.rows.length > 0;
  }

  async recordTriggered(name: string, jobId: string): Promise<void> {
    await this.jobs.sql.run(this.jobs.queries.recordTriggeredJob, [
      name,
      jobId,
    ]);
  }

  /** One schedule (`name`) or all, by name. */
  async list(name: string | null): Promise<ScheduleRow[]> {
    const result = await this.jobs.sql.run(this.jobs.queries.listSchedules, [
      name,
    ]);
    return result.rows.map((row) => ({
      ...row,
      version: Number(row.version),
      nextRunMs: toNumber(row.nextRunMs),
      pausedAtMs: toNumber(row.pausedAtMs),
      lastRunMs: toNumber(row.lastRunMs),
      createdAtMs: Number(row.createdAtMs),
      updatedAtMs: Number(row.updatedAtMs),
    }));
  }
}

function definitionValues(definition: StoredDefinition): unknown[] {
  return [
    definition.name,
    definition.jobType,
    definition.cron,
    definition.timeZone,
    definition.payloadJson,
    definition.optionsJson,
  ];
}
