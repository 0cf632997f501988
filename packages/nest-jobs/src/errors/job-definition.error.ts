import { JobsError } from './jobs.error.js';

/**
 * A `@Job()` handler that cannot be registered (duplicate name, request-scoped provider,
 * bad decorator options). `handler` names it as `Class#method`.
 */
export class JobDefinitionError extends JobsError {
  constructor(
    readonly handler: string,
    problem: string,
  ) {
    super(`Invalid @Job handler ${handler}: ${problem}`);
  }
}
