import { JobsError } from './jobs.error.js';

/**
 * A named prepared statement collided with the server connection it ran on (SQLSTATE 42P05
 * "already exists" or 26000 "does not exist"): a transaction pooler (PgBouncer in transaction
 * mode, Supabase's port 6543, Neon's pooled endpoint) shares server connections between
 * clients, while `database.preparedStatements: true` asked for named statements.
 */
export class TransactionPoolerError extends JobsError {
  constructor(
    readonly statement: string,
    readonly code: string,
    cause: unknown,
  ) {
    super(
      `Transaction pooler detected: the prepared statement "${statement}" collided on the server ` +
        `connection (SQLSTATE ${code}: ${cause instanceof Error ? cause.message : String(cause)}). ` +
        `Set database.preparedStatements to 'auto' or false in JobsModule's options (or ` +
        `max_prepared_statements in PgBouncer 1.21+), or connect past the pooler`,
      { cause },
    );
  }
}
