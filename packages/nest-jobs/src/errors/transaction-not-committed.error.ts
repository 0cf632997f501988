import { JobsError } from './jobs.error.js';

/**
 * The attempt's failure when its handler called `ctx.complete` and returned, but the
 * transaction it completed the job in did not commit (it rolled back, or had not ended when
 * the handler returned): the job was not completed, and is retried like any failure.
 */
export class TransactionNotCommittedError extends JobsError {
  constructor() {
    super(
      'ctx.complete was called, but its transaction did not commit before the handler returned: the job is not completed',
    );
  }
}
