/** Base class of every error nest-jobs throws, so callers can catch them as one family. */
export class JobsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
