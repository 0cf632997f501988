import type { NewJobRow } from '../sql/job-rows.js';

interface WaitingInsert {
  readonly rows: readonly NewJobRow[];
  resolve(): void;
  reject(error: unknown): void;
}

/** Most rows one coalesced statement carries (an enqueueMany larger than this goes alone). */
const MAX_COALESCED_ROWS = 500;

/**
 * Pooled enqueues that arrive while every connection they may use is busy do not queue one
 * by one in the pool: they wait here, and when a statement returns, everything waiting goes
 * out as one multi-row insert (one transaction, one commit). Under concurrency (request
 * handlers that each enqueue a job) the database then commits many jobs per round trip
 * instead of one; while a connection is free an enqueue goes out at once, alone, so an
 * idle application pays no extra latency.
 *
 * Each call still resolves only once its own rows are committed, and fails if they are
 * not. If the database rejects a coalesced statement for something in the rows (a data,
 * constraint or trigger error: nothing was written), each call is retried on its own, so
 * one caller's bad row never fails another's enqueue.
 */
export class PooledInsertQueue {
  private inFlight = 0;
  private waiting: WaitingInsert[] = [];

  constructor(
    private readonly insertRows: (rows: readonly NewJobRow[]) => Promise<void>,
    /** Statements this queue may have in flight: the pool's size. */
    private readonly maxInFlight: () => number,
  ) {}

  insert(rows: readonly NewJobRow[]): Promise<void> {
    return new Promise((resolve, reject) => {
      const call = { rows, resolve, reject };
      if (this.inFlight < this.maxInFlight()) void this.sendGroup([call]);
      else this.waiting.push(call);
    });
  }

  /** Sends what is waiting, as many statements as connections allow. */
  private sendWaiting(): void {
    while (this.waiting.length > 0 && this.inFlight < this.maxInFlight()) {
      void this.sendGroup(this.takeGroup());
    }
  }

  private takeGroup(): WaitingInsert[] {
    let rows = 0;
    let count = 0;
    for (const waiting of this.waiting) {
      if (count > 0 && rows + waiting.rows.length > MAX_COALESCED_ROWS) break;
      rows += waiting.rows.length;
      count += 1;
    }
    return this.waiting.splice(0, count);
  }

  private async sendGroup(group: WaitingInsert[]): Promise<void> {
    this.inFlight += 1;
    try {
      await this.insertRows(
        group.length === 1 ? group[0]!.rows : group.flatMap((w) => w.rows),
      );
      for (const waiting of group) waiting.resolve();
    } catch (error) {
      if (group.length > 1 && rejectedForItsRows(error)) {
        // Nothing was written: let each caller's rows succeed or fail on their own.
        for (const waiting of group) void this.sendGroup([waiting]);
      } else {
        for (const waiting of group) waiting.reject(error);
      }
    } finally {
      this.inFlight -= 1;
      this.sendWaiting();
    }
  }
}

/**
 * Whether PostgreSQL refused the statement because of the data it carried (SQLSTATE class
 * 22 data exception, 23 integrity constraint, P0 raised by a trigger): the statement was
 * rolled back, so sending its rows again cannot write any of them twice. A connection
 * error is not: the statement may have committed before the connection broke.
 */
function rejectedForItsRows(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|23|P0)/.test(code);
}
