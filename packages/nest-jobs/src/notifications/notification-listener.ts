import { Logger } from '@nestjs/common';
import pg from 'pg';
import {
  destroyConnection,
  endConnection,
} from '../connections/client-shutdown.js';
import { ConnectionProbe } from '../connections/connection-probe.js';
import { describeError } from '../utils/describe-error.js';
import { reconnectDelayMs } from '../retry/backoff.js';

/**
 * Holds one dedicated connection that LISTENs on the jobs channel (a pooled connection
 * would lose its LISTEN when returned). On error or a killed backend it reconnects with
 * capped exponential backoff; the worker keeps polling meanwhile, and is told when the
 * listener is back, since notifications sent while it was away are lost. A probe finds a
 * connection that died silently (half-open: no notification, no error) and closes it,
 * which reconnects the same way.
 */
export class NotificationListener {
  private readonly logger = new Logger('JobsWorker');
  private client: pg.Client | null = null;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private connecting: Promise<void> | null = null;
  private probe: ConnectionProbe | null = null;

  constructor(
    private readonly connectionConfig: pg.ClientConfig,
    private readonly channel: string,
    private readonly handlers: {
      onNotification: (queue: string) => void;
      onConnected: () => void;
      /** The connection that was up ended (a reconnection follows unless closed). */
      onDisconnected?: () => void;
    },
    private readonly backoff: { baseMs: number; capMs: number },
    /**
     * A probe of the connection every `probeIntervalMs` (each bounded by its
     * `query_timeout`); closing waits at most `closeTimeoutMs` for the server's goodbye.
     */
    private readonly liveness: {
      probeIntervalMs: number;
      closeTimeoutMs: number;
    },
  ) {}

  start(): void {
    this.connecting = this.connect();
  }

  /** Whether the LISTEN connection is up now (notifications are being received). */
  get listening(): boolean {
    return this.client !== null;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.probe?.stop();
    await this.connecting;
    const client = this.client;
    this.client = null;
    if (client) await endConnection(client, this.liveness.closeTimeoutMs);
  }

  private get listenStatement(): string {
    return `LISTEN "${this.channel.replace(/"/g, '""')}"`;
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ ...this.connectionConfig, keepAlive: true });
    // An 'error' without a listener would crash the process; 'end' follows it.
    client.on('error', (error) =>
      this.logger.warn(`LISTEN connection error: ${error.message}`),
    );
    client.on('end', () => this.onEnded(client));
    client.on('notification', (message) => {
      if (message.channel === this.channel)
        this.handlers.onNotification(message.payload ?? '');
    });
    try {
      await client.connect();
      await client.query(this.listenStatement);
    } catch (error) {
      // Bounded: a connection that failed during a partition never answers a goodbye, and
      // close() awaits this connect.
      await endConnection(client, this.liveness.closeTimeoutMs);
      this.scheduleReconnect(error);
      return;
    } finally {
      this.connecting = null;
    }
    if (this.closed) {
      await endConnection(client, this.liveness.closeTimeoutMs);
      return;
    }
    if (this.failures > 0) this.logger.log('LISTEN connection re-established');
    this.failures = 0;
    this.client = client;
    // The probe repeats the LISTEN (a no-op): pg_stat_activity still shows what it is for.
    this.probe = new ConnectionProbe(
      client,
      this.listenStatement,
      this.liveness.probeIntervalMs,
      (error) => {
        this.logger.warn(
          `LISTEN connection did not answer a probe (${describeError(error)}); closing it`,
        );
        // No goodbye on a dead connection; 'end' follows and reconnects.
        destroyConnection(client);
      },
    );
    this.handlers.onConnected();
  }

  private onEnded(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
    this.probe?.stop();
    this.handlers.onDisconnected?.();
    if (!this.closed) this.scheduleReconnect(new Error('connection ended'));
  }

  private scheduleReconnect(error: unknown): void {
    if (this.closed) return;
    this.failures += 1;
    const delay = reconnectDelayMs(this.backoff, this.failures);
    this.logger.warn(
      `LISTEN connection lost (${describeError(error)}); ` +
        `reconnecting in ${delay} ms, polling meanwhile`,
    );
    this.reconnectTimer = setTimeout(() => {
      this.connecting = this.connect();
    }, delay);
  }
}
