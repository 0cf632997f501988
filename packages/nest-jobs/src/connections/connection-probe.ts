/** The slice of a pg Client the probe uses (kept local: no @types/pg in our d.ts). */
export interface ProbedClient {
  query(text: string): Promise<unknown>;
}

/**
 * Sends a cheap statement on a long-lived connection every `intervalMs`, so that a dead one is
 * found when nothing else would find it: a half-open connection (a partition that drops
 * packets instead of closing connections) delivers no notification and reports no error.
 * The client's `query_timeout` bounds each probe; the first that fails calls `onDead`
 * (once) and the probe stops.
 */
export class ConnectionProbe {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly client: ProbedClient,
    /** What to send: anything harmless to repeat (the LISTEN connection repeats its LISTEN). */
    private readonly statement: string,
    private readonly intervalMs: number,
    private readonly onDead: (error: unknown) => void,
  ) {
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probe(), this.intervalMs);
  }

  private async probe(): Promise<void> {
    try {
      await this.client.query(this.statement);
    } catch (error) {
      if (this.stopped) return;
      this.stopped = true;
      this.onDead(error);
      return;
    }
    this.schedule();
  }
}
