import { Module } from '@nestjs/common';
import { LedgerBook } from './ledger-book.service.js';
import { LedgerController } from './ledger.controller.js';
import { LedgerJob } from './ledger.job.js';

/** An ordered queue: ledger entries post one at a time per account, in request order. */
@Module({
  controllers: [LedgerController],
  providers: [LedgerBook, LedgerJob],
})
export class LedgerModule {}
