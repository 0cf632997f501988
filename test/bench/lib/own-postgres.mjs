// A PostgreSQL server the benchmark starts itself with PostgreSQL's default settings (initdb's
// postgresql.conf: autovacuum on, shared_buffers 128MB), on a free port in a temporary data
// directory, and stops at the end (`--own-postgres`). The machines' server runs with
// autovacuum off; this one is PostgreSQL as it ships. It uses the same major version's
// binaries as the machine (BENCH_PG_BINDIR, else /usr/lib/postgresql/15/bin); PostgreSQL
// refuses to run as root, so as root it runs as the `postgres` user, as the test support's
// embedded server does.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BINDIR = process.env.BENCH_PG_BINDIR ?? '/usr/lib/postgresql/15/bin';

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** Runs a PostgreSQL binary, as `postgres` when this process is root. */
function pgBin(name, args) {
  const binary = join(BINDIR, name);
  const asRoot = process.getuid?.() === 0;
  return execFileSync(
    asRoot ? 'runuser' : binary,
    asRoot ? ['-u', 'postgres', '--', binary, ...args] : args,
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
}

/** Starts the server; resolves { url, stop() } (the URL of its `postgres` database). */
export async function startOwnPostgres() {
  if (!existsSync(join(BINDIR, 'initdb')))
    throw new Error(
      `--own-postgres: no initdb in ${BINDIR} (set BENCH_PG_BINDIR to PostgreSQL's bin directory)`,
    );
  const dir = mkdtempSync(join(tmpdir(), 'njbench-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const port = await freePort();
  pgBin('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync']);
  pgBin('pg_ctl', [
    '-D',
    data,
    '-l',
    join(dir, 'server.log'),
    '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
    '-w',
    'start',
  ]);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      try {
        pgBin('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
