import type { ClaimedJobRow } from '../sql/job-rows.js';

/** What the scheduler asks of the worker. */
export interface ClaimHooks {
  /** Slots free in the whole worker now (concurrency minus handlers running). */
  freeSlots(): number;
  /** Slots free for `queue` under its own cap (`Infinity` without one). */
  freeSlotsIn(queue: string): number;
  /** Claims up to `limit` due jobs of `queue`; rejects on a database error. */
  claim(queue: string, limit: number): Promise<readonly ClaimedJobRow[]>;
  /** Runs a claimed job. */
  start(row: ClaimedJobRow): void;
  onClaimSucceeded(): void;
  onClaimFailed(error: unknown): void;
}

export interface ClaimLimits {
  readonly batchSize: number;
  /** Claims that may be in flight at once (on the worker's own connections). */
  readonly maxInFlight: number;
}

/**
 * Decides when to claim, from which queue and how many. Two rules from the worker issue
 * hold whatever happens: a claim never asks for more jobs than there are free slots (slots
 * already promised to a claim in flight count as taken), and no queue is starved (the
 * starting queue rotates).
 *
 * A queue is claimed from when a wake-up asks (notification, local enqueue, poll, retry
 * timer, rescued leases) or while it has a backlog: its last claim came back full, so more
 * jobs are probably due. Only a backlogged queue gets a second claim while one is in
 * flight, and only a full-sized one: with slots to spare (the README's throughput recipe,
 * concurrency at least twice the batch) the next batch is on its way while the database
 * answers the current one, instead of one round trip after it. A claim that comes back short
 * ends the backlog: a freed slot then claims nothing until something new is due.
 */
export class ClaimScheduler {
  /** Queues a wake-up asked to look at since their last claim went out. */
  private readonly due = new Set<string>();
  /** Queues whose last claim came back full. */
  private readonly backlogged = new Set<string>();
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

  constructor(
    private readonly queues: readonly string[],
    private readonly limits: ClaimLimits,
    private readonly hooks: ClaimHooks,
  ) {}

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
    const needed = Math.max(count, 1);
    // Free slots, not counting those promised to claims in flight: a claim out usually
    // comes back short and frees its promise (if it comes back full, see claimed()).
    if (
      this.backlogged.has(queue) ||
      this.limits.batchSize < needed ||
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
   * Slots were freed: claim for queues with a backlog or a wake-up still waiting for slots,
   * after one turn of the event loop, so that handlers finishing in the same turn (in
   * microtasks) are counted and the claim takes all free slots, not what was free when the
   * first of them finished.
   */
  slotsFreed(): void {
    if (this.due.size > 0 || this.backlogged.size > 0) this.pumpSoon();
  }

  /** Sends no more claims; resolves when the claims in flight have returned (and started their jobs). */
  stop(): Promise<void> {
    this.stopped = true;
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

  /** Slots free for `queue` now, less those promised to claims in flight. */
  private roomIn(queue: string): number {
    return Math.min(
      this.hooks.freeSlots() - this.reserved,
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

  /** How many jobs of `queue` a claim sent now may ask for (0: send none). */
  private limitFor(queue: string): number {
    const backlogged = this.backlogged.has(queue);
    if (!this.due.has(queue) && !backlogged) return 0;
    const limit = Math.min(this.limits.batchSize, this.roomIn(queue));
    if ((this.inFlightPerQueue.get(queue) ?? 0) === 0) return limit;
    // Overlap only a full batch of a queue with a backlog.
    return backlogged && limit === this.limits.batchSize ? limit : 0;
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
    return this.hooks.claim(queue, limit).then(
      (rows) => {
        const short = rows.length < limit;
        for (const resolve of waiting) resolve(short);
        this.claimed(queue, limit, rows);
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
  ): void {
    this.release(queue, limit);
    this.hooks.onClaimSucceeded();
    // Started even when stopping: they are claimed, and the drain waits for them.
    for (const row of rows) this.hooks.start(row);
    if (rows.length === limit) {
      this.backlogged.add(queue);
      // A backlog ahead of the enqueues waiting for the next claim: other workers should help.
      this.answerWaiting(queue, false);
    } else this.backlogged.delete(queue);
    if (this.settleIfStopped()) return;
    // A wake-up that came while this claim was out, or a backlog: claim again, at once if a
    // full batch fits, else after the handlers just started that finish at once are done.
    if (this.limitFor(queue) === this.limits.batchSize) this.pump();
    else this.slotsFreed();
  }

  private claimFailed(queue: string, limit: number, error: unknown): void {
    this.release(queue, limit);
    // No retry loop against a database that is down: the next poll or wake-up retries, and
    // enqueues waiting for the next claim tell other workers instead.
    this.backlogged.delete(queue);
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
