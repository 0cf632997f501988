import { Logger } from '@nestjs/common';
import pg from 'pg';
import { describeError } from '../utils/describe-error.js';
import { reconnectDelayMs } from '../retry/backoff.js';

/**
 * Holds one dedicated connection that LISTENs on the jobs channel (a pooled connection
 * would lose its LISTEN when returned). On error or a killed backend it reconnects with
 * capped exponential backoff; the worker keeps polling meanwhile, and is told when the
 * listener is back, since notifications sent while it was away are lost.
 */
export class NotificationListener {
  private readonly logger = new Logger('JobsWorker');
  private client: pg.Client | null = null;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private closed = false;
  private connecting: Promise<void> | null = null;

  constructor(
    private readonly connectionConfig: pg.ClientConfig,
    private readonly channel: string,
    private readonly handlers: {
      onNotification: (queue: string) => void;
      onConnected: () => void;
    },
    private readonly backoff: { baseMs: number; capMs: number },
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
    await this.connecting;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
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
      await client.query(`LISTEN "${this.channel.replace(/"/g, '""')}"`);
    } catch (error) {
      await client.end().catch(() => undefined);
      this.scheduleReconnect(error);
      return;
    } finally {
      this.connecting = null;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    if (this.failures > 0) this.logger.log('LISTEN connection re-established');
    this.failures = 0;
    this.client = client;
    this.handlers.onConnected();
  }

  private onEnded(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = null;
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
