import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobEntity } from 'nest-jobs';
import { Report } from './report.entity.js';
import { ReportJob } from './report.job.js';
import { ReportsController } from './reports.controller.js';
import { ReportsService } from './reports.service.js';

/** Reports built by a slow background job, with their progress. */
@Module({
  imports: [TypeOrmModule.forFeature([Report, JobEntity])],
  controllers: [ReportsController],
  providers: [ReportsService, ReportJob],
})
export class ReportsModule {}
