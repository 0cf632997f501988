/**
 * How long a claim should take, and what follows from it. A claim's cost grows with the rows
 * it returns, and under load it grows per row too (0.25 ms a row on a busy server against
 * 0.009 ms on an idle one). A long claim lets more jobs pile up for the next one, which then
 * takes longer still: sized by `batchSize` alone, one claim at a time settles into claims of
 * hundreds of rows taking hundreds of milliseconds while jobs keep arriving. Claims kept near
 * CLAIM_TIMING.targetMs come back full instead, which marks a backlog, and a backlog is
 * claimed by overlapping claims (see ClaimScheduler). The constants are to be measured
 * (docs/performance.md, issue 25).
 */
export const CLAIM_TIMING = {
  /** What a claim should take on the wire, in milliseconds. */
  targetMs: 25,
  /** Fewest rows the size is cut to: smaller claims cost more per row than they save. */
  minRows: 50,
  /** Claims returning fewer rows say little of the per-row cost (the round trip dominates). */
  sampleMinRows: 20,
  /** Weight of the newest claim in the per-row average. */
  sampleWeight: 0.3,
  /**
   * A queue woken while its claim has been out this long gets a second claim beside it
   * (a slow claim, e.g. waiting on a busy server, holds up nothing else).
   */
  slowMs: 50,
} as const;

/**
 * The size of the next claim: `batchSize`, cut to what the recent claims suggest takes
 * about CLAIM_TIMING.targetMs (never below CLAIM_TIMING.minRows). Offline drains claim
 * `batchSize` as before: 1,000 rows take 9 ms there.
 */
export class ClaimSizer {
  /** Average milliseconds per claimed row of recent claims (undefined: none measured yet). */
  private msPerRow: number | undefined;

  constructor(private readonly batchSize: number) {}

  /** A claim returned `rows` rows after `durationMs`. */
  record(rows: number, durationMs: number): void {
    if (rows < CLAIM_TIMING.sampleMinRows || !(durationMs >= 0)) return;
    const sample = durationMs / rows;
    this.msPerRow =
      this.msPerRow === undefined
        ? sample
        : this.msPerRow + (sample - this.msPerRow) * CLAIM_TIMING.sampleWeight;
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
