import { JobsError } from './jobs.error.js';

/**
 * A `@JobsMiddleware()` class is invalid (not a singleton, a bad `order`: at start-up) or broke
 * the middleware contract (never called `next()`, or called it twice).
 */
export class JobsMiddlewareError extends JobsError {
  constructor(
    readonly middleware: string,
    problem: string,
  ) {
    super(`nest-jobs middleware ${middleware} ${problem}`);
  }
}
