import type { ClaimedJobRow } from '../sql/job-rows.js';
import { CLAIM_TIMING, ClaimSizer } from './claim-size.js';

/** What the scheduler asks of the worker. */
export interface ClaimHooks {
  /**
   * Slots free for newly claimed jobs in the whole worker now: concurrency minus handlers
   * running, minus jobs claimed ahead that wait for a slot (so it may be negative).
   */
  freeSlots(): number;
  /** The same for `queue` under its own cap (`Infinity` without one). */
  freeSlotsIn(queue: string): number;
  /** Whether `queue` is paused: nothing is claimed from it (a lookup, asked before each claim). */
  isPaused(queue: string): boolean;
  /** Claims up to `limit` due jobs of `queue`; rejects on a database error. */
  claim(queue: string, limit: number): Promise<readonly ClaimedJobRow[]>;
  /**
   * Runs a claimed job. `claimSentAt` is performance.now() when its claim was sent: the
   * lease the database set runs from no earlier than that.
   */
  start(row: ClaimedJobRow, claimSentAt: number): void;
  onClaimSucceeded(): void;
  onClaimFailed(error: unknown): void;
  /**
   * Jobs a queue with a backlog may claim beyond the free slots now, when it varies (the
   * default of `worker.claimAhead`, see ClaimAheadAllowance); ClaimLimits.claimAhead otherwise.
   */
  claimAhead?(): number;
  /** The clock claims are timed by (performance.now() unless a test sets its own). */
  now?(): number;
}

export interface ClaimLimits {
  readonly batchSize: number;
  /** Claims that may be in flight at once (on the worker's own connections). */
  readonly maxInFlight: number;
  /**
   * Jobs a queue with a backlog may claim beyond the free slots (`worker.claimAhead`): they
   * wait in this process for a slot, so the next batch is here when the current one ends.
   * 0 by default here; ClaimHooks.claimAhead, when given, decides instead.
   */
  readonly claimAhead?: number;
}

/**
 * Decides when to claim, from which queue and how many. Two rules from the worker issue
 * hold whatever happens: a claim never asks for more jobs than there are free slots (slots
 * already promised to a claim in flight count as taken; a queue with a backlog may add
 * `claimAhead`), and no queue is starved (the starting queue rotates).
 *
 * A queue is claimed from when a wake-up asks (notification, local enqueue, poll, retry
 * timer, rescued leases) or while it has a backlog: its last claim came back full, so more
 * jobs are probably due. A claim asks for at most ClaimSizer's size: `batchSize` (for a
 * queue with a backlog, what it may claim ahead, if more: one round trip per `batchSize`
 * jobs would bound a worker of few slots by its claims' round trips), cut under load so
 * that a claim stays short on the server (see claim-size.ts). A second claim of a queue
 * goes out while one is in flight when the queue has a backlog and a full-sized claim fits
 * (the next batch is on its way while the database answers the current one, instead of one
 * round trip after it), or when the queue was woken and its claim out is slow
 * (CLAIM_TIMING.slowMs). A claim that comes back short ends the backlog: a freed slot then
 * claims nothing until something new is due.
 */
export class ClaimScheduler {
  /** Queues a wake-up asked to look at since their last claim went out. */
  private readonly due = new Set<string>();
  /** Queues whose last claim came back full. */
  private readonly backlogged = new Set<string>();
  /**
   * Queues whose last claim a rate limit cut (its window was spent with jobs waiting):
   * claimed again only when woken (the window reopens), but then with the allowance of a
   * queue with a backlog. Claims of free slots only would split each window's starts into
   * pieces of a worker's slots, each reopening one period after it was claimed, late by a
   * wake-up each time: the pieces drift apart and a 10-second window held 80% of the
   * limit; claimed ahead, a reopening is taken whole and the pieces merge.
   */
  private readonly heldByRate = new Set<string>();
  /** Queues whose claim out was told the rate is spent (see rateSpent). */
  private readonly spentInClaim = new Set<string>();
  /**
   * Local enqueues waiting, per queue, for the next claim of their queue: sent after their
   * commit, it sees their jobs, and each is told whether it came back short.
   */
  private readonly waitingForClaim = new Map<
    string,
    ((short: boolean) => void)[]
  >();
  private readonly inFlightPerQueue = new Map<string, number>();
  private readonly reservedPerQueue = new Map<string, number>();
  private inFlight = 0;
  private reserved = 0;
  private cursor = 0;
  private pumpScheduled = false;
  private stopped = false;
  private readonly settledWaiters: (() => void)[] = [];
  private readonly sizer: ClaimSizer;
  /** When the latest claim of each queue in flight was sent. */
  private readonly lastSentAt = new Map<string, number>();
  /** Wakes the scheduler when a claim out turns slow while its queue is due. */
  private slowTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(
    private readonly queues: string[],
    private readonly limits: ClaimLimits,
    private readonly hooks: ClaimHooks,
  ) {
    this.sizer = new ClaimSizer(limits.batchSize);
    this.now = hooks.now ? () => hooks.now!() : () => performance.now();
  }

  /** Most jobs the next claim of a queue asks for (see ClaimSizer). */
  get claimSize(): number {
    return this.sizer.size;
  }

  /**
   * Something may be due on `queues` (by default every queue: a poll, a retry timer, rescued
   * leases): claim from each as slots allow. A notification names its queue, and waking only
   * that one spares the other queues an empty claim each.
   */
  wake(queues: readonly string[] = this.queues): void {
    if (this.stopped) return;
    for (const queue of queues) this.due.add(queue);
    this.pump();
  }

  /**
   * `count` due jobs of `queue` were just committed by this process. Resolves whether this
   * worker's next claim of the queue, sent from now on (so after their commit), came back
   * short of its limit: then it saw every due job of the queue, these included, and no
   * other worker needs to hear of them. Returns null, having only marked the queue due,
   * when this worker cannot promise to take them soon: it is stopping, the queue has a
   * backlog ahead of them (other workers should help), or one claim, or its free slots,
   * cannot hold `count` jobs.
   *
   * With nothing in flight the claim is sent now. With a claim out, the next one goes when
   * it returns; concurrent requests whose enqueues share one insert, or follow each other
   * while a claim is out, then cost no NOTIFY while this worker keeps up.
   */
  claimNew(queue: string, count: number): Promise<boolean> | null {
    if (this.stopped) return null;
    this.due.add(queue);
    // Paused: the jobs wait for the resume, which wakes every worker of the queue.
    if (this.hooks.isPaused(queue)) return null;
    const needed = Math.max(count, 1);
    // Free slots, not counting those promised to claims in flight: a claim out usually
    // comes back short and frees its promise (if it comes back full, see claimed()).
    if (
      this.backlogged.has(queue) ||
      this.sizer.size < needed ||
      Math.min(this.hooks.freeSlots(), this.hooks.freeSlotsIn(queue)) < needed
    ) {
      this.pump();
      return null;
    }
    // With nothing in flight no slot is reserved: limitFor is what the free slots allow.
    if (this.inFlight === 0) return this.send(queue, this.limitFor(queue));
    const short = new Promise<boolean>((resolve) => {
      const waiting = this.waitingForClaim.get(queue);
      if (waiting) waiting.push(resolve);
      else this.waitingForClaim.set(queue, [resolve]);
    });
    this.pump();
    return short;
  }

  /**
   * The claim of `queue` now out found its rate (or one of its keys' rates) spent while jobs
   * wait: see heldByRate. Called by the claim, before it returns.
   */
  rateSpent(queue: string): void {
    this.spentInClaim.add(queue);
  }

  /**
   * Slots were freed: claim for queues with a backlog or a wake-up still waiting for slots,
   * after one turn of the event loop, so that handlers finishing in the same turn (in
   * microtasks) are counted and the claim takes all free slots, not what was free when the
   * first of them finished.
   */
  slotsFreed(): void {
    if (this.due.size > 0 || this.backlogged.size > 0) this.pumpSoon();
  }

  /** Claims from `queues` too from now on (queues a pattern of worker.queues matched). */
  addQueues(queues: readonly string[]): void {
    for (const queue of queues)
      if (!this.queues.includes(queue)) this.queues.push(queue);
  }

  /** Sends no more claims; resolves when the claims in flight have returned (and started their jobs). */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.slowTimer);
    // No claim will see their jobs: other workers must hear of them.
    for (const queue of [...this.waitingForClaim.keys()])
      this.answerWaiting(queue, false);
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.settledWaiters.push(resolve));
  }

  private pump(): void {
    const count = this.queues.length;
    const start = this.cursor++ % count;
    for (let i = 0; i < count && !this.stopped; i += 1) {
      const queue = this.queues[(start + i) % count]!;
      // A second pass sends the overlapping claim of a backlogged queue, if it fits.
      for (;;) {
        if (this.inFlight >= this.limits.maxInFlight) return;
        const limit = this.limitFor(queue);
        if (limit <= 0) break;
        void this.send(queue, limit);
      }
      // Nothing sent and no claim out to come back and try again: no free slot for it now.
      if ((this.inFlightPerQueue.get(queue) ?? 0) === 0)
        this.answerWaiting(queue, false);
    }
  }

  /**
   * Slots free for `queue` now, less those promised to claims in flight; a queue with a
   * backlog may claim `claimAhead` more (not under a per-queue cap: those jobs could not
   * start any sooner).
   */
  private roomIn(queue: string): number {
    const ahead = this.hasBacklog(queue) ? this.aheadNow() : 0;
    return Math.min(
      this.hooks.freeSlots() + ahead - this.reserved,
      this.hooks.freeSlotsIn(queue) - (this.reservedPerQueue.get(queue) ?? 0),
    );
  }

  /** The enqueues waiting for the next claim of `queue`, no longer waiting. */
  private takeWaiting(queue: string): ((short: boolean) => void)[] {
    const waiting = this.waitingForClaim.get(queue) ?? [];
    this.waitingForClaim.delete(queue);
    return waiting;
  }

  private answerWaiting(queue: string, short: boolean): void {
    for (const resolve of this.takeWaiting(queue)) resolve(short);
  }

  private aheadNow(): number {
    return this.hooks.claimAhead?.() ?? this.limits.claimAhead ?? 0;
  }

  /**
   * Most jobs a claim of `queue` asks for: `batchSize`, or for a queue with a backlog what it
   * may claim ahead if that is more; cut by ClaimSizer either way. (Not the free slots plus
   * that: with `batchSize` at least the allowance, as tuned, backlogs keep being claimed by
   * overlapping claims of `batchSize`.)
   */
  private fullSizeOf(queue: string): number {
    if (!this.hasBacklog(queue)) return this.sizer.size;
    return this.sizer.sizeUpTo(
      Math.max(this.limits.batchSize, this.aheadNow()),
    );
  }

  /** Whether `queue` has jobs waiting: its last claim came back full, or a rate cut it. */
  private hasBacklog(queue: string): boolean {
    return this.backlogged.has(queue) || this.heldByRate.has(queue);
  }

  /** How many jobs of `queue` a claim sent now may ask for (0: send none). */
  private limitFor(queue: string): number {
    if (this.hooks.isPaused(queue)) return 0;
    const backlogged = this.backlogged.has(queue);
    if (!this.due.has(queue) && !backlogged) return 0;
    const size = this.fullSizeOf(queue);
    const limit = Math.min(size, this.roomIn(queue));
    if ((this.inFlightPerQueue.get(queue) ?? 0) === 0) return limit;
    // Overlap a full-sized claim of a queue with a backlog.
    if (backlogged && limit === size) return limit;
    // Or any claim of a queue woken while its claim out is slow.
    if (!this.due.has(queue) || limit <= 0) return 0;
    const outMs = this.now() - (this.lastSentAt.get(queue) ?? this.now());
    if (outMs >= CLAIM_TIMING.slowMs) return limit;
    this.pumpWhenSlow(CLAIM_TIMING.slowMs - outMs);
    return 0;
  }

  /** Pumps again in `delayMs`, when the claim out turns slow (one timer at a time). */
  private pumpWhenSlow(delayMs: number): void {
    if (this.slowTimer !== undefined || this.stopped) return;
    this.slowTimer = setTimeout(() => {
      this.slowTimer = undefined;
      this.pump();
    }, Math.ceil(delayMs));
    this.slowTimer.unref();
  }

  /** Resolves whether the claim came back short of `limit` (false if it failed). */
  private send(queue: string, limit: number): Promise<boolean> {
    this.due.delete(queue);
    const waiting = this.takeWaiting(queue);
    this.inFlight += 1;
    this.reserved += limit;
    this.inFlightPerQueue.set(
      queue,
      (this.inFlightPerQueue.get(queue) ?? 0) + 1,
    );
    this.reservedPerQueue.set(
      queue,
      (this.reservedPerQueue.get(queue) ?? 0) + limit,
    );
    const sentAt = this.now();
    this.lastSentAt.set(queue, sentAt);
    return this.hooks.claim(queue, limit).then(
      (rows) => {
        const short = rows.length < limit;
        for (const resolve of waiting) resolve(short);
        this.sizer.record(
          rows.length,
          this.now() - sentAt,
          statementMsOf(rows),
        );
        this.claimed(queue, limit, rows, sentAt);
        return short;
      },
      (error: unknown) => {
        for (const resolve of waiting) resolve(false);
        this.claimFailed(queue, limit, error);
        return false;
      },
    );
  }

  private release(queue: string, limit: number): void {
    this.inFlight -= 1;
    this.reserved -= limit;
    this.inFlightPerQueue.set(queue, this.inFlightPerQueue.get(queue)! - 1);
    this.reservedPerQueue.set(queue, this.reservedPerQueue.get(queue)! - limit);
  }

  private claimed(
    queue: string,
    limit: number,
    rows: readonly ClaimedJobRow[],
    sentAt: number,
  ): void {
    this.release(queue, limit);
    this.hooks.onClaimSucceeded();
    // Started even when stopping: they are claimed, and the drain waits for them.
    for (const row of rows) this.hooks.start(row, sentAt);
    // Cut by a rate: not claimed again before its wake-up (the window reopening), which
    // may then claim ahead.
    const rateSpent = this.spentInClaim.delete(queue);
    if (rateSpent) this.heldByRate.add(queue);
    else this.heldByRate.delete(queue);
    if (rows.length === limit && !rateSpent) {
      this.backlogged.add(queue);
      // A backlog ahead of the enqueues waiting for the next claim: other workers should help.
      this.answerWaiting(queue, false);
    } else this.backlogged.delete(queue);
    if (this.settleIfStopped()) return;
    // A wake-up that came while this claim was out, or a backlog: claim again, at once if a
    // full batch fits, else after the handlers just started that finish at once are done.
    if (this.limitFor(queue) === this.fullSizeOf(queue)) this.pump();
    else this.slotsFreed();
  }

  private claimFailed(queue: string, limit: number, error: unknown): void {
    this.release(queue, limit);
    // No retry loop against a database that is down: the next poll or wake-up retries, and
    // enqueues waiting for the next claim tell other workers instead.
    this.backlogged.delete(queue);
    this.spentInClaim.delete(queue);
    this.answerWaiting(queue, false);
    this.hooks.onClaimFailed(error);
    this.settleIfStopped();
  }

  private pumpSoon(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private settleIfStopped(): boolean {
    if (!this.stopped) return false;
    if (this.inFlight === 0)
      for (const resolve of this.settledWaiters.splice(0)) resolve();
    return true;
  }
}

/**
 * How long the claim statement ran on the server: the latest time a row was returned at (a
 * capped claim may merge the rows of two statements: the longer one counts). Undefined when
 * the rows do not say (no row, or rows a claim statement did not make).
 */
function statementMsOf(rows: readonly ClaimedJobRow[]): number | undefined {
  let latest: number | undefined;
  for (const { statementMs: ms } of rows)
    if (typeof ms === 'number' && (latest === undefined || ms > latest))
      latest = ms;
  return latest;
}
