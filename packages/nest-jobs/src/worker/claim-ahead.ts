/**
 * How far ahead of its free slots a queue with a backlog is claimed when `worker.claimAhead`
 * is not set. A fixed number cannot suit both ends: with 10 slots of short jobs, one claim of
 * 10 jobs per round trip caps the worker at 10 jobs per round trip (at 4,000 jobs/s offered
 * it fell behind, issue 25), while 10 jobs held here for long handlers wait a whole
 * handler's run that another instance could have started at once. What bounds the harm of
 * claiming ahead is how long those jobs wait here, so the allowance is a time: the jobs this
 * worker's slots finish in CLAIM_AHEAD.horizonMs at their recent pace.
 */
export const CLAIM_AHEAD = {
  /**
   * Jobs claimed ahead should start within about this long: it also has to cover a claim's
   * round trip, so that the next batch is here when the current one ends.
   */
  horizonMs: 50,
  /** Most jobs claimed ahead by default, whatever the pace (a claim of 1,000 takes 9 ms idle). */
  maxJobs: 1_000,
  /** The pace is measured again at most this often, over the jobs finished since. */
  sampleEveryMs: 100,
  /** Weight of the newest measurement in the average. */
  sampleWeight: 0.5,
} as const;

/** Slot-milliseconds used and jobs finished so far (Slots#usage). */
export type SlotUsage = () => { slotMs: number; finished: number };

/**
 * The jobs a queue with a backlog may claim beyond its free slots now: what the slots finish
 * in CLAIM_AHEAD.horizonMs at the mean time a job held a slot recently (Little's law:
 * slot-milliseconds used over jobs finished), at least `floor` (`batchSize`, what was claimed
 * ahead before any job was timed), at most CLAIM_AHEAD.maxJobs unless `floor` is larger. Long
 * handlers get the floor; no-op handlers the maximum. The pace is that of the handlers, not
 * of the claims, so a slow claim does not shrink the next one (no feedback loop).
 */
export class ClaimAheadAllowance {
  private msPerJob: number | undefined;
  private last: { slotMs: number; finished: number; at: number };

  constructor(
    private readonly usage: SlotUsage,
    private readonly concurrency: number,
    private readonly floor: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.last = { ...usage(), at: now() };
  }

  /** Jobs a queue with a backlog may claim beyond its free slots now. */
  get jobs(): number {
    this.sample();
    if (this.msPerJob === undefined) return this.floor;
    const fitting = Math.floor(
      (this.concurrency * CLAIM_AHEAD.horizonMs) /
        Math.max(this.msPerJob, 0.001),
    );
    return Math.max(this.floor, Math.min(CLAIM_AHEAD.maxJobs, fitting));
  }

  private sample(): void {
    const at = this.now();
    if (at - this.last.at < CLAIM_AHEAD.sampleEveryMs) return;
    const { slotMs, finished } = this.usage();
    const jobs = finished - this.last.finished;
    // Nothing finished yet: the slot time keeps adding up until a job does (a 10 s handler
    // measured over 100 ms alone would look ten times faster than it is).
    if (jobs <= 0) return;
    const sample = (slotMs - this.last.slotMs) / jobs;
    this.msPerJob =
      this.msPerJob === undefined
        ? sample
        : this.msPerJob + (sample - this.msPerJob) * CLAIM_AHEAD.sampleWeight;
    this.last = { slotMs, finished, at };
  }
}
