import { Module } from '@nestjs/common';
import { FlakyController } from './flaky.controller.js';
import { FlakyJob } from './flaky.job.js';

/** A job that fails before it succeeds, to show retries with backoff. */
@Module({ controllers: [FlakyController], providers: [FlakyJob] })
export class FlakyModule {}
