import { describe, expect, it } from '@jest/globals';
import { ClaimScheduler } from '../../../packages/nest-jobs/src/worker/claim-scheduler.js';
import type { ClaimedJobRow } from '../../../packages/nest-jobs/src/sql/job-rows.js';

interface PendingClaim {
  readonly queue: string;
  readonly limit: number;
  /** Answers the claim with `rows` jobs. */
  answer(rows: number): Promise<void>;
  fail(error: Error): Promise<void>;
}

/**
 * A scheduler whose claims wait until the test answers them, over a worker of
 * `concurrency` slots whose handlers keep their slot (nothing finishes): the local-take
 * decisions are exact and nothing sleeps. The database side is covered by
 * test/e2e/notifications/wakeup.e2e-spec.ts.
 */
function scheduler(concurrency: number, batchSize = concurrency) {
  let running = 0;
  /** Slots taken by handlers of other queues (set by the test). */
  const elsewhere = { running: 0 };
  const claims: PendingClaim[] = [];
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const claimScheduler = new ClaimScheduler(
    ['q'],
    { batchSize, maxInFlight: 2 },
    {
      freeSlots: () => concurrency - running - elsewhere.running,
      freeSlotsIn: () => Infinity,
      claim: (queue, limit) =>
        new Promise<readonly ClaimedJobRow[]>((resolve, reject) => {
          claims.push({
            queue,
            limit,
            answer: (rows) => {
              resolve(
                Array.from({ length: rows }, () => ({}) as ClaimedJobRow),
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
  return { claimScheduler, claims, elsewhere };
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
