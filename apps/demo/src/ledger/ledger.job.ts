import { Injectable } from '@nestjs/common';
import { FatalJobError, Job, type JobContext } from 'nest-jobs';
import { LedgerBook } from './ledger-book.service.js';

/** The ordered queue of ledger entries (`queuePolicies` in jobs-module.options.ts). */
export const LEDGER_QUEUE = 'ledger';

/** Payload of a ledger entry: the account's ordering key carries the account. */
export interface LedgerPayload {
  account: string;
  amount: number;
  /** Fail for good (to show a blocked key in GET /admin/blocked-keys). */
  reject?: boolean;
}

/**
 * Posts one entry to an account. Its queue is ordered by account (`orderingKey`): the entries
 * of one account post one at a time in the order they were requested, whatever the number
 * of instances, while different accounts post side by side. A rejected entry fails for good
 * and blocks its account (the queue's default `onFailedJob: 'block'`) until an operator
 * retries or deletes it.
 */
@Injectable()
export class LedgerJob {
  constructor(private readonly book: LedgerBook) {}

  @Job({ name: 'demo.ledger-post', queue: LEDGER_QUEUE, maxRetries: 2 })
  async post(payload: LedgerPayload, ctx: JobContext): Promise<void> {
    if (payload.reject)
      throw new FatalJobError(`entry of ${payload.amount} rejected`);
    // A little work, so that entries of one account would overlap if they were not ordered.
    await new Promise((resolve) => setTimeout(resolve, 20));
    this.book.post(payload.account, payload.amount, ctx.id);
  }
}
