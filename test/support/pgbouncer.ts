import { spawn, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  constants,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A PgBouncer in transaction mode started by a suite, in front of the run's PostgreSQL. */
export interface PgBouncer {
  /** `url` (a database on the run's server) with PgBouncer's address instead. */
  urlOf(url: string): string;
  /** Stops PgBouncer (closing every client and server connection) and removes its files. */
  stop(): Promise<void>;
}

/** The pgbouncer binary on PATH or in Debian's sbin, or null when it is not installed. */
export function findPgBouncer(): string | null {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
  ];
  for (const dir of dirs) {
    const candidate = join(dir, 'pgbouncer');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

/**
 * Starts `binary` on a free port with a config of its own: pool_mode transaction,
 * default_pool_size 10, a wildcard database entry pointing at the server of `serverUrl` (so
 * every per-file test database is reachable), trust authentication for its user.
 */
export async function startPgBouncer(
  binary: string,
  serverUrl: string,
): Promise<PgBouncer> {
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nest-jobs-pgbouncer-'));
  chmodSync(dir, 0o755);
  const quote = (value: string) => `'${value.replace(/'/g, "''")}'`;
  const target = [
    `host=${server.hostname || '127.0.0.1'}`,
    `port=${server.port || '5432'}`,
    `user=${user}`,
    ...(password ? [`password=${quote(password)}`] : []),
  ].join(' ');
  // PgBouncer refuses to run as root: it switches to this user, which must read its files.
  const runAs =
    process.getuid?.() === 0
      ? /^postgres:/m.test(readFileSync('/etc/passwd', 'utf8'))
        ? 'postgres'
        : 'nobody'
      : null;
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" ""\n`, { mode: 0o644 });
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = ${target}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      'pool_mode = transaction',
      'default_pool_size = 10',
      'max_client_conn = 500',
      'ignore_startup_parameters = extra_float_digits',
      ...(runAs ? [`user = ${runAs}`] : []),
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const child = spawn(binary, [join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => resolve()),
  );
  try {
    await waitForPort(port, child, () => output);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    urlOf(url) {
      const through = new URL(url);
      through.hostname = '127.0.0.1';
      through.port = String(port);
      through.password = '';
      through.username = user;
      return through.toString();
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function waitForPort(
  port: number,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`pgbouncer exited at start: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`pgbouncer did not listen on ${port}: ${output()}`);
}
