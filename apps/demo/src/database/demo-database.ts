import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoggerService } from '@nestjs/common';
import pg from 'pg';
import { launchEmbeddedPostgres } from './embedded-postgres.launcher.js';

/** Data of the embedded server: apps/demo/.data/postgres (git-ignored, kept between runs). */
const DATA_DIR = fileURLToPath(
  new URL('../../.data/postgres', import.meta.url),
);
/** Fixed, so that the psql command printed at start-up stays valid from run to run. */
const DEFAULT_PORT = 54329;
const DATABASE_NAME = 'nest_jobs_demo';

/**
 * The demo's database: DATABASE_URL as given, or else a database on an embedded PostgreSQL
 * server started for this process (port DEMO_PG_PORT, default 54329), created if missing.
 * Logs where it is and how to look at it with psql.
 */
export async function resolveDemoDatabase(
  env: NodeJS.ProcessEnv,
  logger: LoggerService,
): Promise<string> {
  if (env.DATABASE_URL) {
    logger.log(`PostgreSQL: DATABASE_URL ${withoutPassword(env.DATABASE_URL)}`);
    return env.DATABASE_URL;
  }
  const port = readPort(env, 'DEMO_PG_PORT') ?? DEFAULT_PORT;
  logger.log(`Starting the embedded PostgreSQL on port ${port}...`);
  const serverUrl = await launchEmbeddedPostgres({ dataDir: DATA_DIR, port });
  const url = await ensureDatabase(serverUrl, DATABASE_NAME);
  logger.log(
    `PostgreSQL: embedded server, data in ${relative(process.cwd(), DATA_DIR) || '.'} ` +
      '(kept between runs; delete the folder to start afresh)',
  );
  logger.log(`Look inside with: psql ${url}`);
  return url;
}

/** Reads a TCP port from the environment; undefined when the variable is not set. */
export function readPort(
  env: NodeJS.ProcessEnv,
  name: string,
): number | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(
      `${name} must be a TCP port number, got ${JSON.stringify(value)}`,
    );
  }
  return port;
}

async function ensureDatabase(
  serverUrl: string,
  name: string,
): Promise<string> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query(
      'SELECT 1 FROM pg_database WHERE datname = $1',
      [name],
    );
    if (rowCount === 0) await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

function withoutPassword(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return '(unparsable URL)';
  }
}
