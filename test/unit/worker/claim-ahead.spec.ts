import { describe, expect, it } from '@jest/globals';
import {
  CLAIM_AHEAD,
  ClaimAheadAllowance,
} from '../../../packages/nest-jobs/src/worker/claim-ahead.js';
import { Slots } from '../../../packages/nest-jobs/src/worker/slots.js';

/**
 * An allowance over usage the test sets (slot-milliseconds used, jobs finished) and a clock
 * it moves.
 */
function allowance(concurrency: number, floor: number) {
  const usage = { slotMs: 0, finished: 0 };
  const clock = { now: 0 };
  const subject = new ClaimAheadAllowance(
    () => ({ ...usage }),
    concurrency,
    floor,
    () => clock.now,
  );
  /** `jobs` jobs finished over `ms` milliseconds, each having held a slot `msPerJob`. */
  const run = (ms: number, jobs: number, msPerJob: number) => {
    clock.now += ms;
    usage.finished += jobs;
    usage.slotMs += jobs * msPerJob;
  };
  return { subject, run };
}

describe('ClaimAheadAllowance: claim ahead what the slots finish in horizonMs', () => {
  it('claims the floor (batchSize) ahead until a job was timed', () => {
    const { subject } = allowance(10, 10);
    expect(subject.jobs).toBe(10);
  });

  it('claims what 10 slots of short jobs finish in horizonMs, at most maxJobs', () => {
    const { subject, run } = allowance(10, 10);
    run(CLAIM_AHEAD.sampleEveryMs, 400, 2.5); // 10 slots, 2.5 ms a job: 4 jobs/ms
    expect(subject.jobs).toBe((10 * CLAIM_AHEAD.horizonMs) / 2.5);
    const noOp = allowance(10, 10);
    noOp.run(CLAIM_AHEAD.sampleEveryMs, 5_000, 0.01);
    expect(noOp.subject.jobs).toBe(CLAIM_AHEAD.maxJobs);
  });

  it('claims only the floor ahead for long handlers, and nothing with a floor of 0', () => {
    const { subject, run } = allowance(10, 10);
    run(1_000, 10, 1_000);
    expect(subject.jobs).toBe(10);
    const none = allowance(10, 0);
    none.run(1_000, 10, 1_000);
    expect(none.subject.jobs).toBe(0);
  });

  it('keeps a floor above maxJobs (a batchSize larger than that)', () => {
    const { subject, run } = allowance(5_000, 2_000);
    run(CLAIM_AHEAD.sampleEveryMs, 10_000, 0.01);
    expect(subject.jobs).toBe(2_000);
  });

  it('adds up slot time over intervals where nothing finished (a long handler is not taken for a fast one)', () => {
    const { subject, run } = allowance(10, 1);
    // 10 slots busy for 1 s with 10 s handlers: nothing finishes in the first samples.
    for (let i = 0; i < 9; i += 1) {
      run(CLAIM_AHEAD.sampleEveryMs, 0, 0);
      expect(subject.jobs).toBe(1);
    }
    // Then one finishes: 10 slots x 1,000 ms over 1 job.
    run(CLAIM_AHEAD.sampleEveryMs, 1, 10_000);
    expect(subject.jobs).toBe(1);
  });
});

describe('Slots#usage: slot-milliseconds used and jobs finished (Little’s law)', () => {
  it('counts the time each slot was held and the jobs that gave theirs back', () => {
    const clock = { now: 1_000 };
    const slots = new Slots(2, new Map(), () => clock.now);
    slots.take('q');
    clock.now += 10;
    slots.take('q');
    clock.now += 30;
    slots.give('q');
    expect(slots.usage()).toEqual({ slotMs: 10 + 2 * 30, finished: 1 });
    clock.now += 5;
    expect(slots.usage()).toEqual({ slotMs: 75, finished: 1 });
    slots.give('q');
    clock.now += 100; // idle: no slot time
    expect(slots.usage()).toEqual({ slotMs: 75, finished: 2 });
  });
});
