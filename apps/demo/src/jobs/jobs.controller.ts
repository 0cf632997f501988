import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
} from '@nestjs/common';
import { JobsService, type JobEntity } from 'nest-jobs';
import { ParseInputPipe } from '../common/parse-input.pipe.js';
import { parseEnqueueJob, type EnqueueJobInput } from './enqueue-job.input.js';
import { JobRowsService, type JobsPage } from './job-rows.service.js';
import { parseListJobsQuery, type ListJobsQuery } from './list-jobs.query.js';

/** Browse the jobs table (GET /jobs, GET /jobs/:id) and enqueue any job by name (POST /jobs). */
@Controller('jobs')
export class JobsController {
  constructor(
    private readonly rows: JobRowsService,
    private readonly jobs: JobsService,
  ) {}

  /** `?status=&queue=&traceId=&page=&limit=`, newest first. */
  @Get()
  list(
    @Query(new ParseInputPipe(parseListJobsQuery)) query: ListJobsQuery,
  ): Promise<JobsPage> {
    return this.rows.list(query);
  }

  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string): Promise<JobEntity> {
    return this.rows.get(id);
  }

  /** Enqueues any registered job by name: `{ name, payload, delay?, queue?, maxRetries? }`. */
  @Post()
  @HttpCode(202)
  async enqueue(
    @Body(new ParseInputPipe(parseEnqueueJob)) input: EnqueueJobInput,
  ): Promise<{ jobId: string }> {
    const jobId = await this.jobs.enqueue(
      input.name,
      input.payload,
      input.options,
    );
    return { jobId };
  }
}
