import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import { ParseInputPipe } from '../common/parse-input.pipe.js';
import {
  parseCreateReport,
  type CreateReportInput,
} from './create-report.input.js';
import type { Report } from './report.entity.js';
import { ReportsService, type ReportView } from './reports.service.js';

/** POST /reports, GET /reports, GET /reports/:id. */
@Controller('reports')
export class ReportsController {
  constructor(private readonly reports: ReportsService) {}

  /** Queues a report; poll GET /reports/:id to watch it go from queued to done. */
  @Post()
  @HttpCode(202)
  create(
    @Body(new ParseInputPipe(parseCreateReport)) input: CreateReportInput,
  ): Promise<Report> {
    return this.reports.request(input);
  }

  /** The 20 newest reports. */
  @Get()
  list(): Promise<Report[]> {
    return this.reports.latest(20);
  }

  @Get(':id')
  get(@Param('id', ParseUUIDPipe) id: string): Promise<ReportView> {
    return this.reports.get(id);
  }
}
