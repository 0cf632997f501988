import { describe, expect, it } from '@jest/globals';
import { lastKeyWalked } from '../../../packages/nest-jobs/src/queues/queue-claim.js';
import type { ClaimedJobRow } from '../../../packages/nest-jobs/src/sql/job-rows.js';

const rows = (...keys: string[]) =>
  keys.map((orderingKey) => ({ orderingKey }) as ClaimedJobRow);

describe('lastKeyWalked (the round robin cursor of ordered claims)', () => {
  it('is the largest key after the cursor when the walk did not wrap', () => {
    expect(lastKeyWalked(rows('c', 'e', 'd'), 'b')).toBe('e');
    expect(lastKeyWalked(rows('a', 'b'), '')).toBe('b');
  });

  it('is the largest key up to the cursor when the walk wrapped around', () => {
    expect(lastKeyWalked(rows('x', 'y', 'a', 'c'), 'w')).toBe('c');
    expect(lastKeyWalked(rows('w'), 'w')).toBe('w');
  });

  it('orders keys by their UTF-8 bytes, as the column does (COLLATE "C")', () => {
    // UTF-16 puts U+FF5E above U+1F600's surrogates; UTF-8 bytes put U+1F600 above.
    expect(lastKeyWalked(rows('\uff5e', '\u{1f600}'), '')).toBe('\u{1f600}');
    expect(lastKeyWalked(rows('B', 'a'), '')).toBe('a');
  });

  it('keeps the cursor when no row carries a key', () => {
    expect(lastKeyWalked([], 'm')).toBe('m');
  });
});
