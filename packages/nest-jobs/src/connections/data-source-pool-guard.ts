import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { dataSourcePools } from './data-source-pools.js';

/** The slice of a pg Pool the guard uses (kept local: no @types/pg in our d.ts). */
interface AcquiringPool {
  on(event: 'acquire', listener: (client: ErrorEmitter) => void): unknown;
}

interface ErrorEmitter {
  on(event: 'error', listener: (error: Error) => void): unknown;
}

const guardedPools = new WeakSet<object>();
const guardedClients = new WeakSet<object>();
const logger = new Logger('JobsModule');

/**
 * Keeps an `'error'` listener on every connection of the DataSource's pg pools (the primary
 * and any replicas), from the moment a pool hands the connection out.
 *
 * Why: pg reports a connection that dies while no query runs on it (server restart,
 * `pg_terminate_backend`, network loss) as an `'error'` event on its Client, and an `'error'`
 * event nobody listens to ends the process. pg-pool listens while a connection is idle, and
 * TypeORM's query runner adds its listener only in a promise continuation after it got the
 * connection: a failure that arrives in between (in the same socket read that finished the
 * previous query) killed worker processes in the chaos suite (docs/reliability.md). Queries
 * still get their own errors and the pool replaces the connection; this listener only keeps
 * the process alive. Idempotent: several modules may share one DataSource.
 */
export function guardPoolConnectionErrors(dataSource: DataSource): void {
  const { primary, replicas } = dataSourcePools<AcquiringPool>(dataSource);
  for (const pool of [primary, ...replicas]) {
    if (!pool || guardedPools.has(pool)) continue;
    guardedPools.add(pool);
    pool.on('acquire', (client) => {
      if (guardedClients.has(client)) return;
      guardedClients.add(client);
      client.on('error', (error) =>
        logger.debug(
          `A connection of the DataSource's pool failed while idle or between queries: ${error.message}`,
        ),
      );
    });
  }
}
