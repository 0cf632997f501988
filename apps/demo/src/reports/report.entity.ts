import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

/** Where a report is: queued until its job starts, then running, then done (or failed). */
export type ReportStatus = 'queued' | 'running' | 'done' | 'failed';

/** What the report job computes. */
export interface ReportResult {
  /** Primes counted in 2..upTo. */
  primes: number;
  /** The largest of them (null when there are none). */
  largestPrime: number | null;
  /** Wall-clock time of the attempt that produced the result. */
  durationMs: number;
  /** The attempt (1 = first) that produced the result. */
  attempt: number;
}

/** A row of `reports` (created by the demo migration CreateReports1750000000001). */
@Entity({ name: 'reports', synchronize: false })
export class Report {
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'varchar', length: 16 })
  status!: ReportStatus;

  @Column({ name: 'up_to', type: 'integer' })
  upTo!: number;

  /** Percentage of the work done by the current attempt. */
  @Column({ type: 'integer' })
  progress!: number;

  @Column({ type: 'jsonb', nullable: true })
  result!: ReportResult | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** The nest-jobs job that builds this report. */
  @Column({ name: 'job_id', type: 'uuid' })
  jobId!: string;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt!: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
