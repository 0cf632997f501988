import { describe, expect, it } from '@jest/globals';
import type { NewJobRow } from '../../../packages/nest-jobs/src/sql/job-rows.js';
import { orderUniqueRows } from '../../../packages/nest-jobs/src/sql/unique-rows.js';

/** A row with `key` (null: not unique); `id` tells rows apart. */
const row = (id: number, key: string | null): NewJobRow => ({
  id: String(id),
  queue: 'default',
  jobType: 'test.job',
  payloadJson: '{}',
  maxRetries: 0,
  runAt: null,
  delayMs: null,
  traceId: null,
  retryPolicyJson: null,
  priority: key === null ? 1 : 0,
  uniqueKey: key,
  uniqueStates: key === null ? null : 1,
  payloadBytes: null,
  orderingKey: null,
  keySequenced: false,
});
const rows = (keys: (string | null)[]) => keys.map((key, i) => row(i, key));
const sentKeys = (input: NewJobRow[]) =>
  orderUniqueRows(input).sent.map((r) => r.uniqueKey);

describe('orderUniqueRows', () => {
  it('sends keys that already grow as they are, with no duplicates and each key found back', () => {
    const input = rows(['a1', 'a2', 'b', 'b0']);
    const ordered = orderUniqueRows(input);
    expect(ordered.sent).toBe(input);
    expect(ordered.duplicateOf).toBeNull();
    expect(['b0', 'a1', 'b', 'a2'].map(ordered.indexOfKey)).toEqual([
      3, 0, 2, 1,
    ]);
  });

  it('sorts keys given in another order, so every statement takes them in one order', () => {
    expect(sentKeys(rows(['c', 'a', 'b']))).toEqual(['a', 'b', 'c']);
  });

  it('sends a repeated key once and says which earlier row each repeat duplicates', () => {
    const input = rows(['a', 'b', 'a', 'c', 'b']);
    const ordered = orderUniqueRows(input);
    expect(ordered.sent.map((r) => r.id)).toEqual(['0', '1', '3']);
    expect(
      [...ordered.duplicateOf!.entries()].filter(([, f]) => f !== undefined),
    ).toEqual([
      [2, 0],
      [4, 1],
    ]);
    expect(ordered.indexOfKey('c')).toBe(3);
  });

  it('a key equal to the one before is a repeat, not an order (strictly growing only)', () => {
    const ordered = orderUniqueRows(rows(['a', 'a']));
    expect(ordered.sent).toHaveLength(1);
    expect(ordered.duplicateOf![1]).toBe(0);
  });

  it('rows without a key (priorities only) go first; all without a key go as they are', () => {
    expect(sentKeys(rows(['b', null, 'a', null]))).toEqual([
      null,
      null,
      'a',
      'b',
    ]);
    const plain = rows([null, null]);
    expect(orderUniqueRows(plain).sent).toBe(plain);
  });
});
