/**
 * How long a claim should take, and what follows from it. A claim's cost grows with the rows
 * it returns, and under load it grows per row too (0.25 ms a row on a busy server against
 * 0.009 ms on an idle one). A long claim lets more jobs pile up for the next one, which then
 * takes longer still: sized by `batchSize` alone, one claim at a time settles into claims of
 * hundreds of rows taking hundreds of milliseconds while jobs keep arriving. Claims kept near
 * CLAIM_TIMING.targetMs come back full instead, which marks a backlog, and a backlog is
 * claimed by overlapping claims (see ClaimScheduler). The constants are to be measured
 * (docs/performance.md, issue 25).
 *
 * The time that counts is the claim statement's own on the server (`statementMs`, see
 * CLAIM_RETURNING), not the time node waited for its answer. That also holds the round trip,
 * the commit's wait for the WAL flush and this process's event loop's delays: costs of each
 * claim, not of each row, that grow with everything the machine does. Four worker processes
 * draining one queue on two cores waited 24 ms for claims the server ran in about 3 ms (most
 * of it commits queued for the WAL flush); read as time per row, that cut claims from 700-900
 * rows to about 120, and more claims meant more commits, each as slow: the four drained at
 * 0.47-0.81x one process (issue 25, point 6). Bigger claims amortise such costs; only the
 * statement's own time says what a row costs. A wait before it runs (a lock on the table,
 * taken when the statement is parsed) is not counted either.
 *
 * The server's time waits too, when claims run side by side: for CPU on a busy machine, for
 * buffer locks on the pages they all claim from (the claim index's first leaf pages, the heap
 * pages of the oldest rows). Those four processes' claims spent 14-36 µs per row on the server
 * in their fastest tenth, 33-73 µs at the median and 61-190 µs in their slowest tenth, where
 * one process alone spent 12-18 / 19-30 / 26-44 µs (seven runs each, a shared machine):
 * the rows cost the same, the waits differ. So the per-row cost is the least of the last
 * CLAIM_TIMING.window claims (as TCP's BBR takes the least recent round trip for the path's
 * own delay, the rest being queueing): waits come and go from claim to claim, and cutting
 * claims for them only adds claims, and more waits. A server slow for every claim (e.g. busy
 * with a stream of inserts) is slow in the fastest one too, and claims are cut as before.
 */
export const CLAIM_TIMING = {
  /** What a claim's statement should take on the server, in milliseconds. */
  targetMs: 25,
  /** Fewest rows the size is cut to: smaller claims cost more per row than they save. */
  minRows: 50,
  /** Claims returning fewer rows say little of the per-row cost (the round trip dominates). */
  sampleMinRows: 20,
  /**
   * Recent claims the per-row cost is the least of (see ClaimSizer): a contended claim waits
   * on top of its rows' cost, so the fastest of the last few says what the rows cost.
   */
  window: 8,
  /**
   * A queue woken while its claim has been out this long gets a second claim beside it
   * (a slow claim, e.g. waiting on a busy server, holds up nothing else).
   */
  slowMs: 50,
} as const;

/**
 * The size of the next claim: `batchSize`, cut to what the recent claims suggest takes
 * about CLAIM_TIMING.targetMs on the server (never below CLAIM_TIMING.minRows). Offline
 * drains claim `batchSize` as before: 1,000 rows take 9 ms there.
 */
export class ClaimSizer {
  /** Milliseconds per claimed row on the server of the latest claims, oldest first. */
  private readonly samples: number[] = [];
  /** The least of `samples` (undefined: none measured yet). */
  private msPerRow: number | undefined;

  constructor(private readonly batchSize: number) {}

  /**
   * A claim returned `rows` rows after `durationMs` in this process, having run `statementMs`
   * on the server (what the rows cost, when the statement said: see CLAIM_TIMING's comment;
   * without it the whole wait is taken for the rows' cost).
   */
  record(rows: number, durationMs: number, statementMs?: number): void {
    const costMs = statementMs ?? durationMs;
    if (rows < CLAIM_TIMING.sampleMinRows || !(costMs >= 0)) return;
    this.samples.push(costMs / rows);
    if (this.samples.length > CLAIM_TIMING.window) this.samples.shift();
    this.msPerRow = Math.min(...this.samples);
  }

  /** Most rows the next claim asks for. */
  get size(): number {
    return this.sizeUpTo(this.batchSize);
  }

  /**
   * The same with `most` in place of `batchSize` (a claim of a queue with a backlog may ask
   * for what it may claim ahead, see ClaimScheduler).
   */
  sizeUpTo(most: number): number {
    const floor = Math.min(most, CLAIM_TIMING.minRows);
    if (this.msPerRow === undefined || this.msPerRow <= 0) return most;
    const fitting = Math.floor(CLAIM_TIMING.targetMs / this.msPerRow);
    return Math.min(most, Math.max(floor, fitting));
  }
}
