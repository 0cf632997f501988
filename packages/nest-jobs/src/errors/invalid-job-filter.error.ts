import { JobsError } from './jobs.error.js';

/** A bulk operator action's filter or limit that cannot be used: names the field and why. */
export class InvalidJobFilterError extends JobsError {
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`Invalid ${field}: ${reason}`);
  }
}
