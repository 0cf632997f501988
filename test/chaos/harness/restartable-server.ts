import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startEmbeddedPostgres,
  type EmbeddedDatabase,
} from 'nest-jobs-demo/embedded-database';
import { waitFor } from '../../support/wait-for.js';

/**
 * A PostgreSQL server of one scenario's own (embedded, own data directory and port), which
 * the scenario can take down and bring back on the same port and data directory:
 * - `down()`: a clean stop (fast shutdown: sessions are terminated, open transactions
 *   rolled back, a checkpoint is written);
 * - `crash()`: SIGQUIT to the postmaster (immediate shutdown: like a crash, no checkpoint;
 *   the next start replays the WAL);
 * - `up()`: starts it again.
 */
export class RestartableServer {
  private running: EmbeddedDatabase | null;
  private lastPort = 0;
  private lastUrl = '';

  private constructor(
    private readonly dataDir: string,
    first: EmbeddedDatabase,
  ) {
    this.running = first;
  }

  static async start(): Promise<RestartableServer> {
    const dataDir = mkdtempSync(join(tmpdir(), 'nest-jobs-chaos-pg-'));
    try {
      return new RestartableServer(
        dataDir,
        await startEmbeddedPostgres({ dataDir, persistent: true }),
      );
    } catch (error) {
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  get port(): number {
    return this.current().port;
  }

  get url(): string {
    return this.current().url;
  }

  /** Takes the server down cleanly; `up()` brings it back. */
  async down(): Promise<void> {
    const server = this.current();
    this.running = null;
    this.lastPort = server.port;
    this.lastUrl = server.url;
    await server.stop();
  }

  /** Kills the server like a crash would (immediate shutdown); `up()` recovers it. */
  async crash(): Promise<void> {
    const server = this.current();
    const pid = Number(
      readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0],
    );
    // Never signal 0 or 1 (the process group, init) on a misread lock file.
    if (!Number.isInteger(pid) || pid <= 1)
      throw new Error(`bad postmaster pid in ${this.dataDir}: ${pid}`);
    this.running = null;
    this.lastPort = server.port;
    this.lastUrl = server.url;
    process.kill(pid, 'SIGQUIT');
    await waitFor(
      `postmaster ${pid} to exit`,
      () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      },
      { timeoutMs: 15_000 },
    );
  }

  async up(): Promise<void> {
    if (this.running) return;
    this.running = await startEmbeddedPostgres({
      dataDir: this.dataDir,
      persistent: true,
      port: this.lastPort,
    });
  }

  /** Stops the server (if up) and deletes its data directory. */
  async destroy(): Promise<void> {
    try {
      await this.running?.stop();
    } finally {
      this.running = null;
      rmSync(this.dataDir, { recursive: true, force: true });
    }
  }

  private current(): EmbeddedDatabase {
    if (!this.running) throw new Error(`the server is down (${this.lastUrl})`);
    return this.running;
  }
}
