import { JobsError } from './jobs.error.js';

/** A job id given to an operator action that is not a uuid: refused before any SQL. */
export class InvalidJobIdError extends JobsError {
  constructor(readonly value: unknown) {
    super(
      `Invalid job id ${describe(value)}: a job id is a uuid (8-4-4-4-12 hexadecimal digits)`,
    );
  }
}

function describe(value: unknown): string {
  if (typeof value !== 'string') return `(a ${typeof value})`;
  const shown = value.length > 60 ? `${value.slice(0, 60)}...` : value;
  return JSON.stringify(shown);
}
