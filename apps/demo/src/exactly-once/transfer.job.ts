import { Injectable } from '@nestjs/common';
import { Job, type TransactionalJobContext } from 'nest-jobs';

/** Payload of the transfer job: move `amount` from one account to another. */
export interface TransferPayload {
  from: string;
  to: string;
  amount: number;
  /** Throw after writing, on the first attempt: the writes roll back with it. */
  failFirstAttempt?: boolean;
}

/**
 * An exactly-once transfer: its two ledger entries are written through the transaction
 * nest-jobs opens around the handler (`transactional: true`), which commits together with
 * the job's completion. An attempt that fails, crashes or loses its job commits nothing;
 * the one that completes the job commits both entries, once.
 */
@Injectable()
export class TransferJob {
  @Job({
    name: 'ledger.transfer',
    queue: 'transfers',
    maxRetries: 5,
    transactional: true,
  })
  async transfer(
    payload: TransferPayload,
    ctx: TransactionalJobContext,
  ): Promise<void> {
    await ctx.manager.query(
      `INSERT INTO ledger_entries (job_id, account, amount, attempt)
       VALUES ($1, $2, $4, $5), ($1, $3, -$4::int, $5)`,
      [ctx.id, payload.to, payload.from, payload.amount, ctx.attempt],
    );
    if (payload.failFirstAttempt && ctx.attempt === 1)
      throw new Error(
        'Simulated failure after the ledger writes: they roll back with the attempt',
      );
  }
}
