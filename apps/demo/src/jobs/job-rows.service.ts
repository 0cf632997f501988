import { Injectable, NotFoundException } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { JobEntity } from 'nest-jobs';
import { Repository, type FindOptionsWhere } from 'typeorm';
import type { ListJobsQuery } from './list-jobs.query.js';

/** One page of jobs. */
export interface JobsPage {
  items: JobEntity[];
  page: number;
  limit: number;
  total: number;
}

/**
 * Reads the `nest_jobs` table through an ordinary TypeORM repository of the library's
 * `JobEntity`. Reading only: rows change through JobsService and the worker.
 */
@Injectable()
export class JobRowsService {
  constructor(
    @InjectRepository(JobEntity) private readonly rows: Repository<JobEntity>,
  ) {}

  async list(query: ListJobsQuery): Promise<JobsPage> {
    const where: FindOptionsWhere<JobEntity> = {};
    if (query.status) where.status = query.status;
    if (query.queue) where.queue = query.queue;
    if (query.traceId) where.traceId = query.traceId;
    const [items, total] = await this.rows.findAndCount({
      where,
      order: { createdAt: 'DESC', id: 'ASC' },
      skip: (query.page - 1) * query.limit,
      take: query.limit,
    });
    return { items, page: query.page, limit: query.limit, total };
  }

  async get(id: string): Promise<JobEntity> {
    const row = await this.rows.findOneBy({ id });
    if (!row) throw new NotFoundException(`No job ${id}`);
    return row;
  }
}
