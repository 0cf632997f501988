import { describe, expect, it } from '@jest/globals';
import { uuidV7 } from '../../../packages/nest-jobs/src/enqueue/job-id.js';

const V7 =
  /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const stampOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);

// The generator keeps the last millisecond it stamped (ids never go back in time), so the
// tests that pass an explicit time use times after every earlier one, in file order.
describe('uuidV7', () => {
  it('is a version 7, RFC 9562 variant UUID', () => {
    for (let i = 0; i < 1000; i += 1) expect(uuidV7()).toMatch(V7);
  });

  it('starts with the Unix time in milliseconds', () => {
    const before = Date.now();
    const stamped = stampOf(uuidV7());
    expect(stamped).toBeGreaterThanOrEqual(before);
    expect(stamped).toBeLessThanOrEqual(Date.now());
    const at = Date.now() + 60_000;
    expect(stampOf(uuidV7(at))).toBe(at);
  });

  // PostgreSQL compares uuids byte by byte, which for lowercase hex is string order.
  it('counts up within one millisecond, across carries of its counter', () => {
    const at = Date.now() + 120_000;
    const ids = Array.from({ length: 10_000 }, () => uuidV7(at));
    for (let i = 1; i < ids.length; i += 1) {
      expect(ids[i]! > ids[i - 1]!).toBe(true);
      expect(ids[i]).toMatch(V7);
    }
    expect(new Set(ids.map(stampOf))).toEqual(new Set([at]));
    // One millisecond's ids share their random bits but the counter's (the last 12 digits).
    expect(new Set(ids.map((id) => id.slice(0, 24))).size).toBe(1);
  });

  it('keeps counting on the last millisecond when the clock steps back', () => {
    const at = Date.now() + 180_000;
    const first = uuidV7(at);
    const afterStepBack = uuidV7(at - 5_000);
    expect(afterStepBack > first).toBe(true);
    expect(stampOf(afterStepBack)).toBe(at);
  });

  it('sorts by time across milliseconds', () => {
    const at = Date.now() + 240_000;
    const earlier = uuidV7(at);
    const later = uuidV7(at + 1);
    expect(earlier < later).toBe(true);
    expect(stampOf(later)).toBe(at + 1);
  });

  it('draws every random digit afresh in each millisecond, across refills of its random pool', () => {
    const at = Date.now() + 300_000;
    // Positions after the version nibble, dashes dropped: 3 + 1 (variant) + 3 + 12 digits.
    const ids = Array.from({ length: 2_000 }, (_, i) =>
      uuidV7(at + i)
        .replace(/-/g, '')
        .slice(13),
    );
    for (let position = 0; position < 19; position += 1) {
      const seen = new Set(ids.map((id) => id[position]));
      if (position === 3)
        expect([...seen].sort()).toEqual(['8', '9', 'a', 'b']);
      // The counter's first digit starts below 8, leaving it room to count.
      else if (position === 7)
        expect([...seen].sort()).toEqual([...'01234567']);
      else expect(seen.size).toBe(16);
    }
  });
});
