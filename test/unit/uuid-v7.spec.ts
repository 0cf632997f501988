import { describe, expect, it } from '@jest/globals';
import { uuidV7 } from '../../packages/nest-jobs/src/utils/uuid-v7.js';

const V7 =
  /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('uuidV7', () => {
  it('is a version 7, RFC 9562 variant UUID', () => {
    for (let i = 0; i < 1000; i += 1) expect(uuidV7()).toMatch(V7);
  });

  it('starts with the Unix time in milliseconds', () => {
    const at = Date.UTC(2026, 10, 23, 12, 34, 56, 789);
    const id = uuidV7(at);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    const before = Date.now();
    const fresh = uuidV7();
    const stamped = parseInt(fresh.replace(/-/g, '').slice(0, 12), 16);
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(Date.now());
  });

  it('sorts by time across milliseconds and is random within one', () => {
    const earlier = uuidV7(1_000);
    const later = uuidV7(1_001);
    expect(earlier < later).toBe(true);
    const sameMs = new Set(Array.from({ length: 10_000 }, () => uuidV7(5_000)));
    expect(sameMs.size).toBe(10_000);
  });

  it('draws every random digit afresh, across refills of its random pool', () => {
    // Positions after the version nibble, dashes dropped: 3 + 1 (variant) + 3 + 12 digits.
    const ids = Array.from({ length: 2_000 }, () =>
      uuidV7(7_000).replace(/-/g, '').slice(13),
    );
    for (let position = 0; position < 19; position += 1) {
      const seen = new Set(ids.map((id) => id[position]));
      if (position === 3)
        expect([...seen].sort()).toEqual(['8', '9', 'a', 'b']);
      else expect(seen.size).toBe(16);
    }
  });
});
