import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import { JobsReader, JobsService } from 'nest-jobs';
import { DataSource } from 'typeorm';
import { ParseInputPipe } from '../common/parse-input.pipe.js';
import { parseImport, parseTransfer } from './exactly-once.input.js';
import { ImportJob, type ImportPayload } from './import.job.js';
import { TransferJob, type TransferPayload } from './transfer.job.js';

/**
 * POST /transfers and GET /transfers/:jobId: a transactional job (exactly-once ledger
 * entries). POST /imports and GET /imports/:jobId: a resumable long job (checkpoints).
 */
@Controller()
export class ExactlyOnceController {
  constructor(
    private readonly jobs: JobsService,
    private readonly reader: JobsReader,
    @Inject(DataSource) private readonly dataSource: DataSource,
  ) {}

  @Post('transfers')
  @HttpCode(202)
  async transfer(
    @Body(new ParseInputPipe(parseTransfer)) input: TransferPayload,
  ): Promise<{ jobId: string }> {
    return { jobId: await this.jobs.enqueue(TransferJob, 'transfer', input) };
  }

  /** The job and the ledger entries it committed (two, whatever its attempts). */
  @Get('transfers/:jobId')
  async transferView(@Param('jobId', ParseUUIDPipe) jobId: string) {
    const job = await this.reader.get(jobId);
    const entries = await this.dataSource.query(
      'SELECT account, amount, attempt FROM ledger_entries WHERE job_id = $1 ORDER BY amount',
      [jobId],
    );
    return {
      status: job.status,
      attempts: job.attempts,
      lastError: job.lastError,
      entries,
    };
  }

  @Post('imports')
  @HttpCode(202)
  async import(
    @Body(new ParseInputPipe(parseImport)) input: ImportPayload,
  ): Promise<{ jobId: string }> {
    return { jobId: await this.jobs.enqueue(ImportJob, 'importLines', input) };
  }

  /**
   * The job, how many lines each attempt imported, and whether any line was imported twice
   * (it never is: each line commits with the checkpoint that records it).
   */
  @Get('imports/:jobId')
  async importView(@Param('jobId', ParseUUIDPipe) jobId: string) {
    const job = await this.reader.get(jobId);
    const [counts] = await this.dataSource.query(
      `SELECT count(*)::int AS lines, count(DISTINCT line)::int AS distinct_lines
       FROM import_lines WHERE job_id = $1`,
      [jobId],
    );
    const byAttempt = await this.dataSource.query(
      `SELECT attempt, count(*)::int AS lines, min(line) AS first, max(line) AS last
       FROM import_lines WHERE job_id = $1 GROUP BY attempt ORDER BY attempt`,
      [jobId],
    );
    return {
      status: job.status,
      attempts: job.attempts,
      maxRetries: job.maxRetries,
      lastError: job.lastError,
      lines: counts.lines,
      duplicates: counts.lines - counts.distinct_lines,
      byAttempt,
    };
  }
}
