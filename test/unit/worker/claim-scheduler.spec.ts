import { describe, expect, it } from '@jest/globals';
import { ClaimScheduler } from '../../../packages/nest-jobs/src/worker/claim-scheduler.js';
import {
  CLAIM_TIMING,
  ClaimSizer,
} from '../../../packages/nest-jobs/src/worker/claim-size.js';
import type { ClaimedJobRow } from '../../../packages/nest-jobs/src/sql/job-rows.js';

interface PendingClaim {
  readonly queue: string;
  readonly limit: number;
  /** Answers the claim with `rows` jobs, the statement having run `statementMs` on the server. */
  answer(rows: number, statementMs?: number): Promise<void>;
  fail(error: Error): Promise<void>;
}

/**
 * A scheduler whose claims wait until the test answers them, over a worker of
 * `concurrency` slots whose handlers keep their slot (nothing finishes): the local-take
 * decisions are exact and nothing sleeps. The database side is covered by
 * test/e2e/notifications/wakeup.e2e-spec.ts.
 */
function scheduler(
  concurrency: number,
  batchSize = concurrency,
  more: { claimAhead?: number; maxInFlight?: number } = {},
) {
  let running = 0;
  /** The scheduler's clock, in milliseconds (moved by the test). */
  const clock = { now: 0 };
  /** Slots taken by handlers of other queues (set by the test). */
  const elsewhere = { running: 0 };
  /** Queues paused (set by the test). */
  const paused = new Set<string>();
  const claims: PendingClaim[] = [];
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const claimScheduler = new ClaimScheduler(
    ['q'],
    { batchSize, maxInFlight: more.maxInFlight ?? 2, ...more },
    {
      now: () => clock.now,
      freeSlots: () => concurrency - running - elsewhere.running,
      freeSlotsIn: () => Infinity,
      isPaused: (queue) => paused.has(queue),
      claim: (queue, limit) =>
        new Promise<readonly ClaimedJobRow[]>((resolve, reject) => {
          claims.push({
            queue,
            limit,
            answer: (rows, statementMs) => {
              resolve(
                Array.from(
                  { length: rows },
                  () => ({ statementMs }) as ClaimedJobRow,
                ),
              );
              return settle().then(settle);
            },
            fail: (error) => {
              reject(error);
              return settle().then(settle);
            },
          });
        }),
      start: () => {
        running += 1;
      },
      onClaimSucceeded: () => undefined,
      onClaimFailed: () => undefined,
    },
  );
  return {
    claimScheduler,
    claims,
    elsewhere,
    paused,
    clock,
    running: () => running,
  };
}

/** Whether `promise` has settled, and with what (after pending callbacks ran). */
async function peek<T>(promise: Promise<T>): Promise<{ value?: T }> {
  let state: { value?: T } = {};
  void promise.then((value) => (state = { value }));
  await new Promise((resolve) => setImmediate(resolve));
  return state;
}

describe('ClaimScheduler: taking the enqueues of its own process', () => {
  it('an idle worker claims at once, and a claim that comes back short took them all', async () => {
    const { claimScheduler, claims } = scheduler(10);
    const taken = claimScheduler.claimNew('q', 3)!;
    expect(claims).toHaveLength(1);
    expect(claims[0]).toMatchObject({ queue: 'q', limit: 10 });
    await claims[0]!.answer(3);
    expect(await taken).toBe(true);
  });

  it('enqueues committed while a claim is out wait for the next claim, sent when it returns, and share it', async () => {
    const { claimScheduler, claims } = scheduler(10);
    const first = claimScheduler.claimNew('q', 1)!;
    const second = claimScheduler.claimNew('q', 1)!;
    const third = claimScheduler.claimNew('q', 2)!;
    // The claim out may have been sent before their commit: it cannot answer for them.
    expect(claims).toHaveLength(1);
    await claims[0]!.answer(1);
    expect(await first).toBe(true);
    expect(await peek(second)).toEqual({});
    expect(claims).toHaveLength(2);
    expect(claims[1]!.limit).toBe(9);
    await claims[1]!.answer(3);
    expect(await second).toBe(true);
    expect(await third).toBe(true);
    expect(claims).toHaveLength(2);
  });

  it('the waiting enqueues are told no when the claim out comes back full (a backlog: other workers should help)', async () => {
    const { claimScheduler, claims } = scheduler(10, 4);
    const first = claimScheduler.claimNew('q', 1)!;
    const waiting = claimScheduler.claimNew('q', 1)!;
    await claims[0]!.answer(4);
    expect(await first).toBe(false);
    expect(await waiting).toBe(false);
  });

  it('the waiting enqueues are told no when the next claim comes back full', async () => {
    const { claimScheduler, claims } = scheduler(10);
    void claimScheduler.claimNew('q', 1);
    const waiting = claimScheduler.claimNew('q', 1)!;
    await claims[0]!.answer(1);
    await claims[1]!.answer(9);
    expect(await waiting).toBe(false);
  });

  it('the waiting enqueues are told no when no slot is left for the next claim', async () => {
    const { claimScheduler, claims, elsewhere } = scheduler(4);
    void claimScheduler.claimNew('q', 1);
    const waiting = claimScheduler.claimNew('q', 1)!;
    // Meanwhile handlers of other queues took the slots the claim out did not fill.
    elsewhere.running = 3;
    await claims[0]!.answer(1);
    expect(claims).toHaveLength(1);
    expect(await waiting).toBe(false);
  });

  it('the waiting enqueues are told no when the claim out fails, or the worker stops', async () => {
    const failing = scheduler(10);
    void failing.claimScheduler.claimNew('q', 1);
    const afterFailure = failing.claimScheduler.claimNew('q', 1)!;
    await failing.claims[0]!.fail(new Error('connection lost'));
    expect(await afterFailure).toBe(false);

    const stopping = scheduler(10);
    void stopping.claimScheduler.claimNew('q', 1);
    const atStop = stopping.claimScheduler.claimNew('q', 1)!;
    const stopped = stopping.claimScheduler.stop();
    expect(await atStop).toBe(false);
    await stopping.claims[0]!.answer(1);
    await stopped;
    expect(stopping.claims).toHaveLength(1);
    expect(stopping.claimScheduler.claimNew('q', 1)).toBeNull();
  });

  it('does not take them when it cannot promise to: more jobs than one claim or the free slots hold, or a backlog', async () => {
    const { claimScheduler, claims } = scheduler(4, 3);
    expect(claimScheduler.claimNew('q', 4)).toBeNull(); // more than a claim of 3
    // That call marked the queue due: the claim it sent counts as the worker's own.
    expect(claims).toHaveLength(1);
    await claims[0]!.answer(3); // full: a backlog, and 3 of 4 slots taken
    expect(claims).toHaveLength(2); // the backlog is claimed again, for the last slot
    expect(claimScheduler.claimNew('q', 1)).toBeNull(); // backlog ahead
    await claims[1]!.answer(0);
    expect(claimScheduler.claimNew('q', 2)).toBeNull(); // one free slot
  });
});

describe('ClaimScheduler: paused queues', () => {
  it('claims nothing from a paused queue, whatever wakes it, and claims again once woken after the resume', async () => {
    const { claimScheduler, claims, paused } = scheduler(10);
    paused.add('q');
    expect(claimScheduler.claimNew('q', 1)).toBeNull();
    claimScheduler.wake();
    claimScheduler.slotsFreed();
    await new Promise((resolve) => setImmediate(resolve));
    expect(claims).toHaveLength(0);
    paused.delete('q');
    claimScheduler.wake(['q']);
    expect(claims).toHaveLength(1);
  });

  it('a backlogged queue paused while its claim is out sends no further claim', async () => {
    const { claimScheduler, claims, paused } = scheduler(20, 5);
    claimScheduler.wake();
    expect(claims).toHaveLength(1);
    paused.add('q');
    await claims[0]!.answer(5);
    expect(claims).toHaveLength(1);
  });
});

describe('ClaimSizer: claims stay short whatever batchSize says', () => {
  it('claims batchSize until a claim was timed, and keeps it while claims are fast', () => {
    const sizer = new ClaimSizer(1000);
    expect(sizer.size).toBe(1000);
    sizer.record(1000, 9); // offline: 9 ms for 1,000 rows
    expect(sizer.size).toBe(1000);
  });

  it('cuts the size to what takes about targetMs when rows cost more, never below minRows', () => {
    const sizer = new ClaimSizer(1000);
    sizer.record(800, 200); // 0.25 ms a row, as measured online near capacity
    expect(sizer.size).toBe(CLAIM_TIMING.targetMs / 0.25);
    for (let i = 0; i < 20; i += 1) sizer.record(100, 500);
    expect(sizer.size).toBe(CLAIM_TIMING.minRows);
    // Faster again: the size grows back.
    for (let i = 0; i < 20; i += 1) sizer.record(100, 1);
    expect(sizer.size).toBe(1000);
  });

  it('learns nothing from claims too small to time rows, nor from a clock that went back', () => {
    const sizer = new ClaimSizer(1000);
    sizer.record(CLAIM_TIMING.sampleMinRows - 1, 500);
    sizer.record(500, -1);
    sizer.record(500, Number.NaN);
    expect(sizer.size).toBe(1000);
  });

  it('never asks for more than batchSize, nor cuts a small batchSize', () => {
    const sizer = new ClaimSizer(10);
    sizer.record(100, 10_000);
    expect(sizer.size).toBe(10);
  });

  it("sizes by the statement's time on the server, not by the wait in this process", () => {
    // Four processes on one queue: node waited 24 ms for claims the server ran in 1-3 ms
    // (commits queued for the WAL flush, a busy event loop). The rows cost what the server
    // spent on them; the rest is a cost of each claim, which bigger claims amortise.
    const sizer = new ClaimSizer(1000);
    for (let i = 0; i < 20; i += 1) sizer.record(120, 24, 3);
    expect(sizer.size).toBe(1000);
    // The server itself slow per row (0.25 ms) in every recent claim: cut as before.
    for (let i = 0; i < CLAIM_TIMING.window; i += 1)
      sizer.record(1000, 260, 250);
    expect(sizer.size).toBe(CLAIM_TIMING.targetMs / 0.25);
  });

  it('takes the fastest of the recent claims for what a row costs: waits on other claims come and go', () => {
    const sizer = new ClaimSizer(1000);
    // Contended claims spend 2-5x as long per row as the fastest ones around them.
    const perRowMs = [0.02, 0.1, 0.05, 0.09, 0.04, 0.1, 0.08, 0.06];
    for (const ms of perRowMs) sizer.record(500, 100, ms * 500);
    expect(sizer.size).toBe(1000); // 25 ms / 0.02 ms
    // Once the fast one is older than the window, the fastest left counts.
    sizer.record(500, 100, 0.1 * 500);
    expect(sizer.size).toBe(Math.floor(CLAIM_TIMING.targetMs / 0.04));
    // Slow in every recent claim: the server is slow per row, claims are cut.
    for (let i = 0; i < CLAIM_TIMING.window; i += 1)
      sizer.record(500, 100, 0.1 * 500);
    expect(sizer.size).toBe(CLAIM_TIMING.targetMs / 0.1);
  });
});

describe('ClaimScheduler: short claims under load, overlapping when large or slow', () => {
  it('a slow full claim cuts the next ones, which overlap on the backlog', async () => {
    const { claimScheduler, claims, clock } = scheduler(2000, 1000);
    claimScheduler.wake();
    expect(claims.map((c) => c.limit)).toEqual([1000]);
    clock.now += 250; // 0.25 ms a row: the size becomes 100
    await claims[0]!.answer(1000);
    expect(claimScheduler.claimSize).toBe(100);
    // A backlog (it came back full): two claims of 100 at once, not one of 1,000.
    expect(claims.map((c) => c.limit)).toEqual([1000, 100, 100]);
  });

  it("a backlog claimed from a contended server keeps its full size: the wait in node is not the rows' cost", async () => {
    const { claimScheduler, claims, clock } = scheduler(2000, 1000);
    claimScheduler.wake();
    clock.now += 250; // 250 ms in node, 9 ms on the server
    await claims[0]!.answer(1000, 9);
    expect(claimScheduler.claimSize).toBe(1000);
    // The backlog is claimed by a claim of 1,000 (the free slots), not by two of 100.
    expect(claims.map((c) => c.limit)).toEqual([1000, 1000]);
  });

  it('a queue woken while its claim is out gets a second claim once that claim is slow', async () => {
    const { claimScheduler, claims, clock } = scheduler(20, 5);
    claimScheduler.wake();
    expect(claims).toHaveLength(1);
    clock.now += CLAIM_TIMING.slowMs - 1;
    claimScheduler.wake(['q']);
    expect(claims).toHaveLength(1); // not slow yet: it will see the new jobs when it returns
    clock.now += 1;
    claimScheduler.wake(['q']);
    expect(claims.map((c) => c.limit)).toEqual([5, 5]);
    // Never more than maxInFlight, however slow.
    clock.now += CLAIM_TIMING.slowMs;
    claimScheduler.wake(['q']);
    expect(claims).toHaveLength(2);
    // The last wake-up is claimed once a claim returns (the one left out is slow too).
    await claims[0]!.answer(0);
    expect(claims).toHaveLength(3);
    await claims[1]!.answer(0);
    await claims[2]!.answer(0);
    expect(claims).toHaveLength(3);
  });

  it('a slow claim gets no second claim without a wake-up, nor beyond the free slots', async () => {
    const idle = scheduler(20, 5);
    idle.claimScheduler.wake();
    idle.clock.now += CLAIM_TIMING.slowMs * 2;
    idle.claimScheduler.slotsFreed();
    await new Promise((resolve) => setImmediate(resolve));
    expect(idle.claims).toHaveLength(1);

    const full = scheduler(5, 5);
    full.claimScheduler.wake();
    full.clock.now += CLAIM_TIMING.slowMs * 2;
    full.claimScheduler.wake(['q']);
    expect(full.claims).toHaveLength(1); // its 5 slots are promised to the claim out
    await idle.claims[0]!.answer(0);
    await full.claims[0]!.answer(0);
  });
});

describe('ClaimScheduler: claiming ahead of free slots (claimAhead)', () => {
  it('a queue with a backlog claims up to claimAhead jobs beyond its free slots, never more', async () => {
    const { claimScheduler, claims, running } = scheduler(10, 10, {
      claimAhead: 10,
    });
    claimScheduler.wake();
    await claims[0]!.answer(10); // full: a backlog, every slot taken
    expect(claims.map((c) => c.limit)).toEqual([10, 10]);
    await claims[1]!.answer(10);
    expect(running()).toBe(20);
    expect(claims).toHaveLength(2); // slots and claimAhead both used up
  });

  it('claims nothing ahead for a queue without a backlog: a new job is left to a worker with a free slot', async () => {
    const { claimScheduler, claims } = scheduler(1, 1, { claimAhead: 1 });
    expect(claimScheduler.claimNew('q', 1)).not.toBeNull();
    await claims[0]!.answer(1); // full: the backlog is checked with one claim ahead
    expect(claims.map((c) => c.limit)).toEqual([1, 1]);
    await claims[1]!.answer(0); // none: the backlog is over
    expect(claimScheduler.claimNew('q', 1)).toBeNull();
    claimScheduler.wake(['q']);
    expect(claims).toHaveLength(2);
  });

  it('a backlog is claimed ahead in claims of up to claimAhead, not in batchSize pieces', async () => {
    // Issue 25: 10 slots, batchSize 10; claims of 10 bounded the worker by round trips.
    const { claimScheduler, claims, running } = scheduler(10, 10, {
      claimAhead: 200,
    });
    claimScheduler.wake();
    await claims[0]!.answer(10); // full: a backlog, every slot taken
    expect(claims.map((c) => c.limit)).toEqual([10, 200]);
    await claims[1]!.answer(200);
    expect(running()).toBe(210);
    expect(claims).toHaveLength(2); // slots and claimAhead used up
  });

  it('without a backlog a claim still asks for batchSize at most, whatever claimAhead allows', async () => {
    const { claimScheduler, claims } = scheduler(20, 5, { claimAhead: 200 });
    claimScheduler.wake();
    expect(claims.map((c) => c.limit)).toEqual([5]);
    await claims[0]!.answer(2);
    claimScheduler.wake(['q']);
    expect(claims.map((c) => c.limit)).toEqual([5, 5]);
    await claims[1]!.answer(0);
  });

  it('a claim a rate cut is not sent again before its wake-up, which then claims ahead like a backlog', async () => {
    const { claimScheduler, claims } = scheduler(10, 10, { claimAhead: 30 });
    claimScheduler.wake();
    // The window had room for 4 (told by the claim before it returns): jobs still wait.
    claimScheduler.rateSpent('q');
    await claims[0]!.answer(4);
    expect(claims).toHaveLength(1);
    // The window reopens: the worker's timer wakes the queue.
    claimScheduler.wake(['q']);
    expect(claims.map((c) => c.limit)).toEqual([10, 30]);
    // Not cut by the rate, and short: no backlog, no claim ahead.
    await claims[1]!.answer(5);
    claimScheduler.wake(['q']);
    expect(claims.map((c) => c.limit)).toEqual([10, 30, 1]);
  });

  it('a full claim that spent the rate is no backlog: nothing is claimed before the window reopens', async () => {
    const { claimScheduler, claims } = scheduler(10, 10, { claimAhead: 30 });
    claimScheduler.wake();
    claimScheduler.rateSpent('q');
    await claims[0]!.answer(10);
    expect(claims).toHaveLength(1);
    claimScheduler.wake(['q']);
    expect(claims.map((c) => c.limit)).toEqual([10, 30]);
  });

  it('a short claim ends the backlog, and with it the claims ahead', async () => {
    const { claimScheduler, claims } = scheduler(10, 10, { claimAhead: 10 });
    claimScheduler.wake();
    await claims[0]!.answer(10);
    await claims[1]!.answer(3);
    claimScheduler.wake(['q']);
    expect(claims).toHaveLength(2);
  });
});
