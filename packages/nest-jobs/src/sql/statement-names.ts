import { Logger } from '@nestjs/common';

/**
 * SQLSTATEs a transaction pooler causes on a named statement: 42P05, the name was prepared on
 * this server connection by another client; 26000, the driver prepared it on another server
 * connection than the one the pooler chose now. Both are raised at Parse or Bind, before the
 * statement ran, so sending it again unnamed cannot apply it twice.
 */
export const POOLER_COLLISION_CODES: ReadonlySet<string> = new Set([
  '42P05',
  '26000',
]);

/**
 * Whether pooled statements are sent with their names (prepared once per connection) or
 * unnamed (parse, bind and execute in one round trip): `database.preparedStatements`, and
 * under `'auto'` switched off for good once a transaction pooler shows itself. One instance
 * per route to the server: the app's repository and the worker's share it unless the worker
 * goes through `database.directUrl`.
 */
export class StatementNames {
  private readonly logger = new Logger('JobsModule');
  /** Read on every statement: a plain field. */
  enabled: boolean;

  constructor(
    /** `database.preparedStatements`. */
    readonly setting: boolean | 'auto',
  ) {
    this.enabled = setting !== false;
  }

  /** Switches names off for the rest of the process (under `'auto'`), saying why once. */
  disable(reason: string): void {
    if (!this.enabled || this.setting !== 'auto') return;
    this.enabled = false;
    this.logger.warn(
      `${reason}; nest-jobs sends unnamed statements from now on. Set database.preparedStatements: false ` +
        `to start that way (see "Behind PgBouncer, Supabase or Neon" in the manual)`,
    );
  }
}
