import { Logger } from '@nestjs/common';
import pg from 'pg';
import { describeError } from '../utils/describe-error.js';

/**
 * The worker's own connections. Claims, outcome writes, heartbeats and sweeps do not queue
 * behind the application's queries in its TypeORM pool (an exhausted pool would delay
 * heartbeats until leases expire, and a 64-deep queue of enqueues made every claim wait
 * for it), nor take connections from its request handlers.
 */
export function createWorkerPool(
  config: pg.ClientConfig,
  size: number,
): pg.Pool {
  const pool = new pg.Pool({ ...config, max: size, keepAlive: true });
  // An idle connection that dies (server restart, terminated backend) is reported here;
  // without a listener pg would crash the process. The next statement opens a new one.
  pool.on('error', (error) =>
    new Logger('JobsWorker').warn(
      `Worker connection lost while idle: ${describeError(error)}`,
    ),
  );
  return pool;
}
