import { JobsError } from './jobs.error.js';

/**
 * Thrown by `ctx.complete` and `ctx.checkpoint` (and by a `transactional` handler's
 * completion) when the attempt no longer holds its job: its lease was lost and the job was
 * rescued, an operator cancelled it, or the attempt already ended. Nothing was written, and
 * the transaction it ran in was left able only to roll back: a COMMIT of it commits
 * nothing, so the handler's writes in it vanish with it.
 */
export class AttemptNotHeldError extends JobsError {
  constructor(
    readonly jobId: string,
    readonly attempt: number,
    /** `ctx.complete`, `ctx.checkpoint` or `transactional completion`. */
    readonly call: string,
  ) {
    super(
      `${call}: attempt ${attempt} of job ${jobId} no longer holds the job (lease lost, cancelled or already ended); nothing was written and its transaction can only roll back`,
    );
  }
}
