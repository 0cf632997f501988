import pg from 'pg';
import { endConnection } from './client-shutdown.js';
import { withClientTimeouts } from './connection-config.js';
import { connectionCheckQueries as q } from '../sql/queries/connection-check.queries.js';

/** Rounds of the check: a pooler may hand the borrowed server connection elsewhere once. */
const ROUNDS = 3;

/**
 * Looks for a transaction pooler between the application and PostgreSQL (PgBouncer in
 * transaction mode, Supabase's port 6543, Neon's pooled endpoint) with two short-lived
 * clients of `config`: client A asks for its backend's pid, client B opens a transaction
 * and asks for its own, then A asks again. Straight to the server (or through a session
 * pooler) every client keeps its backend; a transaction pooler lends A's idle server
 * connection to B's transaction, so B gets A's pid or A moves to another one. Returns what
 * it saw, or null when nothing showed a pooler (or the check could not connect: then a
 * collision later still switches names off, see SqlRunner).
 */
export async function detectTransactionPooler(
  config: pg.ClientConfig,
  /** Bound of each step (connect, statement, goodbye): start-up must not hang on a partition. */
  timeoutMs: number,
): Promise<string | null> {
  const bounded = withClientTimeouts(config, timeoutMs);
  const a = new pg.Client(bounded);
  const b = new pg.Client(bounded);
  // A connection dropped between statements is reported as an 'error' event.
  for (const client of [a, b]) client.on('error', () => undefined);
  try {
    await Promise.all([a.connect(), b.connect()]);
    for (let round = 0; round < ROUNDS; round += 1) {
      const first = await backendPid(a);
      await b.query(q.begin);
      const borrowed = await backendPid(b);
      const second = await backendPid(a);
      await b.query(q.commit);
      if (borrowed === first || second !== first)
        return `one client's statements ran on backends ${first} and ${second}, another client's transaction on ${borrowed}`;
    }
    return null;
  } catch {
    return null;
  } finally {
    await Promise.all([
      endConnection(a, timeoutMs),
      endConnection(b, timeoutMs),
    ]);
  }
}

async function backendPid(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ pid: number }>(q.backendPid);
  return rows[0]!.pid;
}
