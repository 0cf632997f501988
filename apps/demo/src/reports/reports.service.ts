import { randomUUID } from 'node:crypto';
import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { JobEntity, JobsService, type JobStatus } from 'nest-jobs';
import { DataSource, Repository } from 'typeorm';
import type { CreateReportInput } from './create-report.input.js';
import { Report } from './report.entity.js';
import { ReportJob } from './report.job.js';

/** A report with the state of the job that builds it. */
export interface ReportView extends Report {
  job: {
    status: JobStatus;
    attempts: number;
    runAt: Date;
    lastError: string | null;
  } | null;
}

/** Queues reports and reads them back with the state of their job. */
@Injectable()
export class ReportsService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(Report) private readonly reports: Repository<Report>,
    @InjectRepository(JobEntity)
    private readonly jobRows: Repository<JobEntity>,
    private readonly jobs: JobsService,
  ) {}

  /** Creates the report row (queued) and its job together, in one transaction. */
  request(input: CreateReportInput): Promise<Report> {
    return this.dataSource.transaction(async (manager) => {
      const id = randomUUID();
      // Enqueue first, for the job id; a bad delay throws here before anything is written.
      const jobId = await this.jobs.enqueue(
        ReportJob,
        'build',
        { reportId: id },
        { manager, delay: input.delay as number | undefined },
      );
      const report = manager.create(Report, {
        id,
        upTo: input.upTo,
        jobId,
        status: 'queued',
        progress: 0,
      });
      await manager.insert(Report, report);
      return report;
    });
  }

  async get(id: string): Promise<ReportView> {
    const report = await this.reports.findOneBy({ id });
    if (!report) throw new NotFoundException(`No report ${id}`);
    const job = await this.jobRows.findOneBy({ id: report.jobId });
    return {
      ...report,
      job: job && {
        status: job.status,
        attempts: job.attempts,
        runAt: job.runAt,
        lastError: job.lastError,
      },
    };
  }

  latest(limit: number): Promise<Report[]> {
    return this.reports.find({ order: { createdAt: 'DESC' }, take: limit });
  }
}
