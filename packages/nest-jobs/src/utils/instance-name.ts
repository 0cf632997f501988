import { hostname } from 'node:os';
import { COLUMN_LIMITS } from '../jobs.constants.js';
import { toPostgresText } from './postgres-text.js';

/**
 * This process as the attempt history names it: `hostname:pid`. Read once; cut to a name's
 * column length, and made text PostgreSQL accepts, whatever the host is called.
 */
export const INSTANCE_NAME = toPostgresText(
  `${safeHostname()}:${process.pid}`.slice(0, COLUMN_LIMITS.nameLength),
);

function safeHostname(): string {
  try {
    return hostname();
  } catch {
    return 'unknown-host';
  }
}
