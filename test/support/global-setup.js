// Chooses the PostgreSQL server of the whole run: DATABASE_URL when set, else an embedded
// one started here (test files then create their own databases on it).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from 'nest-jobs-demo/embedded-database';

export default async function globalSetup() {
  if (!process.env.DATABASE_URL) {
    const dataDir = mkdtempSync(join(tmpdir(), 'nest-jobs-test-pg-'));
    const server = await startEmbeddedPostgres({ dataDir, persistent: false });
    globalThis.__NEST_JOBS_EMBEDDED_PG__ = server;
    process.env.DATABASE_URL = server.url;
    process.env.NEST_JOBS_TEST_PG = 'embedded';
  }
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  const { rows } = await client.query('SHOW server_version');
  await client.end();
  const where =
    process.env.NEST_JOBS_TEST_PG === 'embedded'
      ? 'embedded server'
      : 'DATABASE_URL';
  console.log(
    `\nnest-jobs tests: PostgreSQL ${rows[0].server_version} (${where})`,
  );
}
