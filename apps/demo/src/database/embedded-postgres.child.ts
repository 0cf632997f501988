/**
 * Child process that owns the demo's embedded PostgreSQL (see embedded-postgres.launcher.ts
 * for why it is a separate process). It starts the server, reports its URL to the parent,
 * and stops it when the parent is gone (the IPC channel disconnects).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from '../embedded-database.js';
import type {
  EmbeddedPostgresArgs,
  EmbeddedPostgresMessage,
} from './embedded-postgres.launcher.js';

const args = JSON.parse(process.argv[2] ?? '{}') as EmbeddedPostgresArgs;
/** The server's last lines, to explain a failed start (port taken, data dir in use...). */
const recentLog: string[] = [];

let starting: Promise<EmbeddedDatabase | undefined> | undefined;

process.once('disconnect', () => {
  void (async () => {
    const server = await starting?.catch(() => undefined);
    await server?.stop();
    process.exit(0);
  })();
});

starting = start();
const server = await starting.catch((error: unknown) => {
  report({ kind: 'failed', message: describeFailure(error) }, 1);
  return undefined;
});
if (server) report({ kind: 'ready', url: server.url });

async function start(): Promise<EmbeddedDatabase> {
  await waitForPreviousServer(args.dataDir);
  return startEmbeddedPostgres({
    dataDir: args.dataDir,
    persistent: true,
    port: args.port,
    onLog: (message) => {
      recentLog.push(...message.trim().split('\n'));
      recentLog.splice(0, Math.max(0, recentLog.length - 5));
    },
  });
}

function report(message: EmbeddedPostgresMessage, exitCode?: number): void {
  if (!process.connected) return;
  process.send!(message, () => {
    if (exitCode !== undefined) process.exit(exitCode);
  });
}

/**
 * A demo restarted right after a stop may find the previous server still shutting down
 * (it stops once the previous parent is gone); wait for it rather than fail on its lock file.
 */
async function waitForPreviousServer(dataDir: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && isRunning(postmasterPid(dataDir))) {
    await sleep(100);
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    const firstLine = readFileSync(
      join(dataDir, 'postmaster.pid'),
      'utf8',
    ).split('\n', 1)[0];
    const pid = Number(firstLine);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isRunning(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function describeFailure(error: unknown): string {
  // embedded-postgres rejects without a reason when the server exits during start-up.
  const reason =
    error instanceof Error
      ? error.message
      : 'PostgreSQL exited during start-up';
  const log = recentLog.length ? `\n  ${recentLog.join('\n  ')}` : '';
  return `Could not start the embedded PostgreSQL on port ${args.port} with data in ${args.dataDir}: ${reason}${log}${hintFor(log)}`;
}

function hintFor(log: string): string {
  if (log.includes('lock file')) {
    return (
      '\nIs the demo already running? Stop it, or point a second instance at its ' +
      'database with DATABASE_URL (the psql URL it printed).'
    );
  }
  if (log.includes('already in use')) {
    return `\nPort ${args.port} is taken: set DEMO_PG_PORT to a free one.`;
  }
  return '';
}
