import { JobsError } from './jobs.error.js';

/**
 * Start-up found that the database role lacks a privilege nest-jobs needs: `privileges`
 * (e.g. `['CREATE']`, `['UPDATE', 'DELETE']`, or `['OWNER']` for DDL on a table of another
 * role) on `object` (e.g. `schema "public"`, `table "public"."nest_jobs"`), for `purpose`.
 * The message ends with the statement an administrator would run.
 */
export class JobsPrivilegeError extends JobsError {
  constructor(
    readonly role: string,
    readonly privileges: readonly string[],
    readonly object: string,
    purpose: string,
    remedy: string,
    options?: ErrorOptions,
  ) {
    super(
      `nest-jobs: the database role "${role}" lacks the ${privileges.join(', ')} privilege` +
        `${privileges.length > 1 ? 's' : ''} on ${object}, needed ${purpose}. ${remedy}`,
      options,
    );
  }
}
