// Administrative connection to the benchmark's PostgreSQL server: one fresh database per
// system per scenario (so no system inherits another's bloat or caches of its tables), the
// server settings printed in the report, and the postmaster pid used to read its CPU time.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';

const FALLBACK_URL = 'postgres://postgres@127.0.0.1:5432/test';

export function adminUrl() {
  return process.env.DATABASE_URL || FALLBACK_URL;
}

/** The URL of database `name` on the same server as adminUrl(). */
export function databaseUrl(name) {
  const url = new URL(adminUrl());
  url.pathname = `/${name}`;
  return url.toString();
}

async function withAdmin(fn) {
  const client = new pg.Client({ connectionString: adminUrl() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createDatabase(name) {
  await withAdmin(async (client) => {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(`CREATE DATABASE "${name}"`);
  });
  return databaseUrl(name);
}

/** CHECKPOINT (superuser only; skipped silently otherwise): flushes what earlier runs left dirty. */
export async function checkpoint() {
  await withAdmin((client) => client.query('CHECKPOINT')).catch(
    () => undefined,
  );
}

export async function dropDatabase(name) {
  await withAdmin((client) =>
    client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  );
}

/** Databases a killed earlier run left behind (their names start with the run prefix). */
export async function dropLeftovers(prefix) {
  await withAdmin(async (client) => {
    const { rows } = await client.query(
      'SELECT datname FROM pg_database WHERE datname LIKE $1',
      [`${prefix}%`],
    );
    for (const { datname } of rows)
      await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  });
}

const SETTINGS = [
  'server_version',
  'shared_buffers',
  'effective_cache_size',
  'work_mem',
  'max_connections',
  'synchronous_commit',
  'fsync',
  'full_page_writes',
  'wal_level',
  'wal_buffers',
  'commit_delay',
  'max_wal_size',
  'checkpoint_timeout',
  'autovacuum',
  'jit',
  'random_page_cost',
];

export async function serverSettings() {
  return withAdmin(async (client) => {
    const { rows } = await client.query(
      'SELECT name, setting, unit FROM pg_settings WHERE name = ANY($1)',
      [SETTINGS],
    );
    const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
    const shown = {};
    for (const name of SETTINGS) {
      if (!byName[name]) continue;
      const {
        rows: [row],
      } = await client.query(`SHOW ${name}`);
      shown[name] = row[name];
    }
    return shown;
  });
}

/**
 * Pid of the postmaster of the server we talk to, or null when it is not on this machine
 * (or not readable): PostgreSQL CPU is then reported as n/a.
 */
export async function postmasterPid() {
  try {
    const dataDirectory = await withAdmin(async (client) => {
      const {
        rows: [row],
      } = await client.query('SHOW data_directory');
      return row.data_directory;
    });
    const pid = Number(
      readFileSync(join(dataDirectory, 'postmaster.pid'), 'utf8').split(
        '\n',
        1,
      )[0],
    );
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Backends of other databases that are running a statement now (someone else loads the server). */
export async function foreignActivity(ownPrefix) {
  return withAdmin(async (client) => {
    const {
      rows: [row],
    } = await client.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity
       WHERE state = 'active' AND pid <> pg_backend_pid() AND datname IS NOT NULL AND datname NOT LIKE $1`,
      [`${ownPrefix}%`],
    );
    return row.n;
  });
}
