import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { JobAttemptError } from './job-attempt-error.interface.js';
import { JobStatus } from '../enums/job-status.enum.js';

/**
 * Read model of the default jobs table (`public.nest_jobs`), for querying jobs with a
 * TypeORM repository: add it to your DataSource `entities`. The table is owned by the
 * migrations (`synchronize: false`); change rows through JobsService, not by saving this.
 */
@Entity({ name: 'nest_jobs', synchronize: false })
export class JobEntity {
  /** The job id `enqueue` returned (UUIDv7, made in the process). */
  @PrimaryColumn('uuid')
  id!: string;

  /** Queue the job goes to. */
  @Column({ type: 'varchar', length: 255 })
  queue!: string;

  /** The job's name (`@Job({ name })`, else `Class.method`); column `job_type`. */
  @Column({ name: 'job_type', type: 'varchar', length: 255 })
  jobType!: string;

  /** The payload as stored (JSON). */
  @Column({ type: 'jsonb' })
  payload!: unknown;

  /** `pending`, `running`, `completed`, `failed` or `cancelled` (see JobStatus). */
  @Column({ type: 'varchar', length: 32 })
  status!: JobStatus;

  /** Attempts counted so far: each claim adds one, a release at shutdown takes it back (see the manual, "What counts as an attempt"). */
  @Column({ type: 'integer' })
  attempts!: number;

  /**
   * Attempts returned to pending uncounted (a shutdown, a snooze) or that started the job
   * afresh (a reschedule); with `attempts`, the fence of the worker's writes.
   */
  @Column({ type: 'integer' })
  releases!: number;

  /** Retries after the first attempt (3: at most 4 runs); column `max_retries`. */
  @Column({ name: 'max_retries', type: 'integer' })
  maxRetries!: number;

  /** When the job is (or was) due; column `run_at`. */
  @Column({ name: 'run_at', type: 'timestamptz' })
  runAt!: Date;

  /** Start of the latest attempt; column `started_at`. */
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  /** End of the lease of a `running` attempt; column `locked_until`. */
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  /** When the job became `completed` or `failed`; column `finished_at`. */
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  /** Error of the latest attempt that did not succeed (failed, interrupted, lease expired), truncated. A completion keeps it, as history: read `status` for the outcome. Column `last_error`. */
  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  /** Trace id of the request that enqueued the job; column `trace_id`. */
  @Column({ name: 'trace_id', type: 'varchar', length: 64, nullable: true })
  traceId!: string | null;

  /** The retry policy given at enqueue (null: the handler's); column `retry_policy`. */
  @Column({ name: 'retry_policy', type: 'jsonb', nullable: true })
  retryPolicy!: unknown;

  /** Claimed before jobs of lower priority (higher first, then `runAt`); column `priority`. */
  @Column({ name: 'priority', type: 'smallint', default: 0 })
  priority!: number;

  /** The unique key (the job name, then the key, fields' hash or period), or null; column `unique_key`. */
  @Column({ name: 'unique_key', type: 'text', nullable: true })
  uniqueKey!: string | null;

  /** Bits of the states in which the key refuses a duplicate (1 pending, 2 running, 4 completed, 8 failed), or null; column `unique_states`. */
  @Column({ name: 'unique_states', type: 'integer', nullable: true })
  uniqueStates!: number | null;

  /**
   * The latest value a running attempt reported with `ctx.progress` (null: none yet);
   * column `progress`.
   */
  @Column({ type: 'jsonb', nullable: true })
  progress!: unknown;

  /** The latest failed attempts, oldest first (at most 20); column `attempt_errors`. */
  @Column({ name: 'attempt_errors', type: 'jsonb', nullable: true })
  attemptErrors!: JobAttemptError[] | null;

  /** The latest state stored with `ctx.checkpoint` (null: none); column `checkpoint`. */
  @Column({ type: 'jsonb', nullable: true })
  checkpoint!: unknown;

  /** The payload of a job enqueued with binary data (`payload` is then null); column `payload_bytes`. */
  @Column({ name: 'payload_bytes', type: 'bytea', nullable: true })
  payloadBytes!: Buffer | null;

  /** When the job was enqueued; column `created_at`. */
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
