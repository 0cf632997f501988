import { Module } from '@nestjs/common';
import { WaitingController } from './waiting.controller.js';
import { WaitingJob } from './waiting.job.js';

/** A job that snoozes until ready, then reports progress: handler outcomes and progress. */
@Module({ controllers: [WaitingController], providers: [WaitingJob] })
export class WaitingModule {}
