import { JobsError } from './jobs.error.js';

/** A `@JobsMiddleware()` class broke the middleware contract (e.g. never called `next()`). */
export class JobsMiddlewareError extends JobsError {
  constructor(
    readonly middleware: string,
    problem: string,
  ) {
    super(`nest-jobs middleware ${middleware} ${problem}`);
  }
}
