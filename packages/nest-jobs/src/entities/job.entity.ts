import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import { JobStatus } from '../enums/job-status.enum.js';

/**
 * Read model of the default jobs table (`public.nest_jobs`), for querying jobs with a
 * TypeORM repository: add it to your DataSource `entities`. The table is owned by the
 * migrations (`synchronize: false`); change rows through JobsService, not by saving this.
 */
@Entity({ name: 'nest_jobs', synchronize: false })
export class JobEntity {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 255 })
  queue!: string;

  @Column({ name: 'job_type', type: 'varchar', length: 255 })
  jobType!: string;

  @Column({ type: 'jsonb' })
  payload!: unknown;

  @Column({ type: 'varchar', length: 32 })
  status!: JobStatus;

  @Column({ type: 'integer' })
  attempts!: number;

  @Column({ name: 'max_retries', type: 'integer' })
  maxRetries!: number;

  @Column({ name: 'run_at', type: 'timestamptz' })
  runAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true })
  lockedUntil!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'trace_id', type: 'varchar', length: 64, nullable: true })
  traceId!: string | null;

  @Column({ name: 'retry_policy', type: 'jsonb', nullable: true })
  retryPolicy!: unknown;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
