import { JobsError } from './jobs.error.js';

/**
 * `ctx.complete` or `ctx.checkpoint` was called in a way that cannot be honoured: twice,
 * after the handler returned, with something that is not an EntityManager of the
 * DataSource nest-jobs uses, or with a manager whose transaction is not open. Nothing was
 * written.
 */
export class InvalidJobTransactionError extends JobsError {
  constructor(
    /** `ctx.complete` or `ctx.checkpoint`. */
    readonly call: string,
    readonly problem: string,
  ) {
    super(`${call}: ${problem}; nothing was written`);
  }
}
