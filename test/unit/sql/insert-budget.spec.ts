import { describe, expect, it } from '@jest/globals';
import {
  fitsOneStatement,
  payloadChars,
  splitIntoStatements,
  STATEMENT_BUDGET,
} from '../../../packages/nest-jobs/src/sql/insert-budget.js';
import type { NewJobRow } from '../../../packages/nest-jobs/src/sql/job-rows.js';

/** A row whose payload JSON is `chars` characters long; `id` tells rows apart. */
const row = (id: number, chars: number): NewJobRow => ({
  id: String(id),
  queue: 'default',
  jobType: 'test.job',
  payloadJson: chars < 2 ? '0' : `"${'x'.repeat(chars - 2)}"`,
  maxRetries: 0,
  runAt: null,
  delayMs: null,
  traceId: null,
  retryPolicyJson: null,
  priority: 0,
  uniqueKey: null,
  uniqueStates: null,
  payloadBytes: null,
  orderingKey: null,
  keySequenced: false,
});
const rows = (sizes: number[]) => sizes.map((chars, i) => row(i, chars));
const ids = (runs: NewJobRow[][]) => runs.map((run) => run.map((r) => r.id));

describe('insert statement budget', () => {
  const budget = { maxRows: 3, maxPayloadChars: 100 };

  it('keeps rows within both bounds in one statement', () => {
    const small = rows([40, 30, 30]);
    expect(payloadChars(small)).toBe(100);
    expect(fitsOneStatement(small, budget)).toBe(true);
    expect(ids(splitIntoStatements(small, budget))).toEqual([['0', '1', '2']]);
  });

  it('cuts by rows and by payload characters, in order, every row once', () => {
    expect(fitsOneStatement(rows([1, 1, 1, 1]), budget)).toBe(false);
    expect(
      ids(splitIntoStatements(rows([1, 1, 1, 1, 1, 1, 1]), budget)),
    ).toEqual([['0', '1', '2'], ['3', '4', '5'], ['6']]);
    expect(fitsOneStatement(rows([60, 41]), budget)).toBe(false);
    expect(ids(splitIntoStatements(rows([60, 41, 59, 2, 40]), budget))).toEqual(
      [['0'], ['1', '2'], ['3', '4']],
    );
  });

  it('gives a row larger than the budget a statement of its own', () => {
    expect(ids(splitIntoStatements(rows([10, 150, 10, 101]), budget))).toEqual([
      ['0'],
      ['1'],
      ['2'],
      ['3'],
    ]);
    expect(splitIntoStatements([], budget)).toEqual([]);
  });

  it('keeps statements far below PostgreSQL limits: 1 GB per message, 256 MB per jsonb', () => {
    // 3 bytes of UTF-8 and at most 6 bytes of jsonb per character of JSON text.
    expect(STATEMENT_BUDGET.maxPayloadChars * 3).toBeLessThan(2 ** 30 / 4);
    expect(STATEMENT_BUDGET.maxPayloadChars * 6).toBeLessThan(268_435_455 / 2);
  });
});
