import {
  Controller,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import {
  JobNotFoundError,
  JobsQueueControl,
  JobsReader,
  type BlockedKey,
  type JobCounts,
  type JobPage,
  type JobView,
  type QueueStats,
} from 'nest-jobs';
import { toJobListFilter } from './admin-jobs.query.js';
import { AdminTokenGuard } from './admin-token.guard.js';

/**
 * The operator's view over HTTP: JobsReader (list, get, counts, per-queue stats) and
 * JobsQueueControl (pause, resume). Every route is behind AdminTokenGuard.
 */
@UseGuards(AdminTokenGuard)
@Controller('admin')
export class AdminController {
  constructor(
    private readonly reader: JobsReader,
    private readonly queues: JobsQueueControl,
  ) {}

  /** `?status=failed&queue=emails&name=...&createdFrom=ISO&createdBefore=ISO&limit=50&cursor=...` */
  @Get('jobs')
  list(@Query() query: Record<string, unknown>): Promise<JobPage> {
    return this.reader.list(toJobListFilter(query));
  }

  @Get('jobs/:id')
  async get(@Param('id') id: string): Promise<JobView> {
    try {
      return await this.reader.get(id);
    } catch (error) {
      if (error instanceof JobNotFoundError)
        throw new NotFoundException(error.message);
      throw error;
    }
  }

  @Get('counts')
  counts(): Promise<JobCounts> {
    return this.reader.counts();
  }

  @Get('queues')
  queueStats(): Promise<QueueStats[]> {
    return this.reader.queueStats();
  }

  /** Keys of ordered queues held by a job that failed for good (retry or delete it). */
  @Get('blocked-keys')
  blockedKeys(): Promise<BlockedKey[]> {
    return this.reader.blockedKeys();
  }

  @Post('queues/:queue/pause')
  @HttpCode(200)
  async pause(
    @Param('queue') queue: string,
  ): Promise<{ queue: string; changed: boolean }> {
    return { queue, changed: await this.queues.pause(queue) };
  }

  @Post('queues/:queue/resume')
  @HttpCode(200)
  async resume(
    @Param('queue') queue: string,
  ): Promise<{ queue: string; changed: boolean }> {
    return { queue, changed: await this.queues.resume(queue) };
  }
}
