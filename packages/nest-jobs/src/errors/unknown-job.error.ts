import { JobsError } from './jobs.error.js';

/** Enqueue of a job name that no `@Job()` handler is registered for. */
export class UnknownJobError extends JobsError {
  constructor(
    readonly jobName: string,
    known: readonly string[],
  ) {
    super(
      `Unknown job "${jobName}": no @Job handler has this name` +
        (known.length
          ? ` (known: ${known.slice(0, 20).join(', ')})`
          : ' (no handlers are registered)'),
    );
  }
}
