import { describe, expect, it } from '@jest/globals';
import { ClaimedAhead } from '../../../packages/nest-jobs/src/worker/claimed-ahead.js';
import { HeldAttempt } from '../../../packages/nest-jobs/src/worker/held-attempt.js';
import type { ClaimedJobRow } from '../../../packages/nest-jobs/src/sql/job-rows.js';

function attempt(id: string, queue: string): HeldAttempt {
  return new HeldAttempt({ id, queue } as ClaimedJobRow, 0);
}

describe('ClaimedAhead: jobs claimed ahead of a free slot', () => {
  it('starts them in claim order, counting them in all and per queue', () => {
    const ahead = new ClaimedAhead();
    ahead.add(attempt('a', 'q1'));
    ahead.add(attempt('b', 'q2'));
    ahead.add(attempt('c', 'q1'));
    expect([ahead.size, ahead.sizeIn('q1'), ahead.sizeIn('q2')]).toEqual([
      3, 2, 1,
    ]);
    expect(ahead.takeStartable(() => true)?.id).toBe('a');
    expect(ahead.takeStartable(() => true)?.id).toBe('b');
    expect([ahead.size, ahead.sizeIn('q1'), ahead.sizeIn('q2')]).toEqual([
      1, 1, 0,
    ]);
  });

  it('skips the jobs of a queue with no free slot, without losing their place', () => {
    const ahead = new ClaimedAhead();
    ahead.add(attempt('a', 'capped'));
    ahead.add(attempt('b', 'free'));
    expect(ahead.takeStartable((queue) => queue !== 'capped')?.id).toBe('b');
    expect(ahead.takeStartable((queue) => queue !== 'capped')).toBeUndefined();
    expect(ahead.takeStartable(() => true)?.id).toBe('a');
    expect(ahead.size).toBe(0);
  });

  it('hands every waiting job over at once (a shutdown releases them)', () => {
    const ahead = new ClaimedAhead();
    ahead.add(attempt('a', 'q'));
    ahead.add(attempt('b', 'q'));
    expect(ahead.takeAll().map((job) => job.id)).toEqual(['a', 'b']);
    expect([ahead.size, ahead.sizeIn('q')]).toEqual([0, 0]);
  });
});
