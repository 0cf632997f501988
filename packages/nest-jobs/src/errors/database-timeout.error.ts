import { JobsError } from './jobs.error.js';

/**
 * PostgreSQL did not answer a statement of the library (or hand out a connection for it)
 * within its client-side bound. The connection it was sent on is closed, never reused: on
 * a half-open connection (a partition that drops packets) the answer would never come.
 * Whether the statement took effect is unknown: it may have committed before the answer
 * was lost.
 */
export class DatabaseTimeoutError extends JobsError {
  constructor(readonly timeoutMs: number) {
    super(
      `PostgreSQL did not answer within ${timeoutMs} ms (network partition, overloaded server or a long lock wait); the connection was closed`,
    );
  }
}
