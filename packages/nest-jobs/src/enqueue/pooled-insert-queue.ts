import {
  payloadChars,
  STATEMENT_BUDGET,
  type InsertBudget,
} from '../sql/insert-budget.js';
import type { ExistingIds, NewJobRow } from '../sql/job-rows.js';

interface WaitingInsert {
  readonly rows: readonly NewJobRow[];
  resolve(existing: ExistingIds): void;
  reject(error: unknown): void;
}

/**
 * What one coalesced statement carries at most: 500 rows, and the statement budget's payload
 * characters. A call larger than either on its own goes alone (and the repository splits it
 * into several statements of one transaction when it exceeds the statement budget).
 */
const COALESCING_BUDGET: InsertBudget = {
  maxRows: 500,
  maxPayloadChars: STATEMENT_BUDGET.maxPayloadChars,
};

/**
 * Pooled enqueues that arrive while every connection they may use is busy do not queue one
 * by one in the pool: they wait here, and when a statement returns, everything waiting goes
 * out as one multi-row insert (one transaction, one commit). Under concurrency (request
 * handlers that each enqueue a job) the database then commits many jobs per round trip
 * instead of one; while a connection is free an enqueue goes out at once, alone, so an
 * idle application pays no extra latency.
 *
 * Each call still resolves only once its own rows are committed, and fails if they are
 * not. Unique jobs coalesce too: a key two callers share is inserted for the first and
 * reported as a duplicate to the second, as if they had been sent one after the other
 * (never an error for either). A statement is bounded in rows and payload size, so no caller's size can push it
 * over a PostgreSQL limit; if the database still rejects a coalesced statement for
 * something in the rows (a data, constraint, trigger or size error: nothing was written),
 * each call is retried on its own, so one caller's rows never fail another's enqueue.
 */
export class PooledInsertQueue {
  private inFlight = 0;
  private waiting: WaitingInsert[] = [];

  constructor(
    private readonly insertRows: (
      rows: readonly NewJobRow[],
    ) => Promise<ExistingIds>,
    /** Statements this queue may have in flight: the pool's size. */
    private readonly maxInFlight: () => number,
    /** Bounds of one coalesced statement (smaller ones in unit tests). */
    private readonly budget: InsertBudget = COALESCING_BUDGET,
  ) {}

  /** Inserts `rows`; resolves with what the insert learned of duplicates (ExistingIds). */
  insert(rows: readonly NewJobRow[]): Promise<ExistingIds> {
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

  /**
   * The calls at the head of the queue that fit one statement together (at least one).
   * Ordered and unique jobs never share one: each has a statement of its own.
   */
  private takeGroup(): WaitingInsert[] {
    const { maxRows, maxPayloadChars } = this.budget;
    let rows = 0;
    let chars = 0;
    let count = 0;
    let kinds = 0;
    for (const waiting of this.waiting) {
      const callChars = payloadChars(waiting.rows);
      const callKinds = rowKinds(waiting.rows);
      if (
        count > 0 &&
        (rows + waiting.rows.length > maxRows ||
          chars + callChars > maxPayloadChars ||
          (kinds | callKinds) === (ORDERED | UNIQUE))
      )
        break;
      rows += waiting.rows.length;
      chars += callChars;
      kinds |= callKinds;
      count += 1;
    }
    return this.waiting.splice(0, count);
  }

  private async sendGroup(group: WaitingInsert[]): Promise<void> {
    this.inFlight += 1;
    try {
      const existing = await this.insertRows(
        group.length === 1 ? group[0]!.rows : group.flatMap((w) => w.rows),
      );
      let offset = 0;
      for (const waiting of group) {
        const end = offset + waiting.rows.length;
        waiting.resolve(
          existing === undefined || group.length === 1
            ? existing
            : existing.slice(offset, end),
        );
        offset = end;
      }
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

const ORDERED = 1;
const UNIQUE = 2;

/** ORDERED and/or UNIQUE: whether some of `rows` have an ordering key, a unique key. */
function rowKinds(rows: readonly NewJobRow[]): number {
  let kinds = 0;
  for (const row of rows)
    kinds |=
      (row.orderingKey !== null ? ORDERED : 0) |
      (row.uniqueKey !== null ? UNIQUE : 0);
  return kinds;
}

/**
 * Whether PostgreSQL refused the statement for what it carried or for its size, so each
 * call's rows may fare differently alone: SQLSTATE class 22 data exception, 23 integrity
 * constraint, P0 raised by a trigger, 54 program limit exceeded (a jsonb over 256 MB), 40
 * serialization failure or deadlock, 53200 out of memory, 57014 statement timeout. The
 * statement was rolled back, so sending its rows again cannot write any of them twice. A
 * connection error is not: the statement may have committed before the connection broke.
 */
function rejectedForItsRows(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    (/^(22|23|P0|54|40)/.test(code) || code === '53200' || code === '57014')
  );
}
