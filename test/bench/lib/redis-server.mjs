// A redis-server the benchmark starts itself (on a free port, in a temporary directory) and
// stops: BullMQ with AOF persistence, which the machine's Redis (127.0.0.1:6379, no RDB, no
// AOF) does not have. `appendfsync always` fsyncs every write before answering, the
// durability of PostgreSQL's synchronous_commit on; `everysec` is BullMQ's production advice.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sleep } from './stats.mjs';

/** The Redis the machine runs (no persistence); BENCH_REDIS_URL overrides it. */
export const SHARED_REDIS_URL =
  process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

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

/**
 * Starts `redis-server` with AOF on (`appendfsync` as given) and no RDB snapshots; resolves
 * { url, pid, stop() } once it answers PING. Throws, saying so, when the binary is missing.
 */
export async function startRedisWithAof(appendfsync) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'njbench-redis-'));
  const child = spawn(
    process.env.BENCH_REDIS_SERVER ?? 'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      appendfsync,
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let failure = null;
  child.once('error', (error) => (failure = error));
  // A child that crashes before its adapter's close() must not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined);
  for (let tries = 0; ; tries += 1) {
    if (failure)
      throw new Error(
        `could not start redis-server (${failure.message}): install it (apt-get install -y redis-server) or set BENCH_REDIS_SERVER`,
      );
    try {
      await probe.connect();
      if ((await probe.ping()) === 'PONG') break;
    } catch {
      probe.disconnect();
    }
    if (tries > 100) {
      child.kill('SIGKILL');
      throw new Error(`redis-server on port ${port} did not answer`);
    }
    await sleep(50);
  }
  probe.disconnect();
  return {
    url,
    pid: child.pid,
    async stop() {
      process.off('exit', killOnExit);
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5_000)]);
      if (child.exitCode === null && child.signalCode === null)
        child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The pid of the Redis server behind `url` (INFO server), for its CPU time; null if unknown. */
export async function redisServerPid(url) {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  try {
    const info = await client.info('server');
    const match = /process_id:(\d+)/.exec(info);
    return match ? Number(match[1]) : null;
  } catch {
    return null;
  } finally {
    client.disconnect();
  }
}
