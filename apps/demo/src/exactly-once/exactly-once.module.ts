import { Module } from '@nestjs/common';
import { ExactlyOnceController } from './exactly-once.controller.js';
import { ImportJob } from './import.job.js';
import { TransferJob } from './transfer.job.js';

/** Exactly-once effects: a transactional job and a resumable long job with checkpoints. */
@Module({
  controllers: [ExactlyOnceController],
  providers: [TransferJob, ImportJob],
})
export class ExactlyOnceModule {}
