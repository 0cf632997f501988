import { describe, expect, it } from '@jest/globals';
import { PooledInsertQueue } from '../../../packages/nest-jobs/src/enqueue/pooled-insert-queue.js';
import type { NewJobRow } from '../../../packages/nest-jobs/src/sql/job-rows.js';

const row = (id: string, chars: number): NewJobRow => ({
  id,
  queue: 'default',
  jobType: 'test.job',
  payloadJson: `"${'x'.repeat(Math.max(0, chars - 2))}"`,
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

/**
 * A queue over a fake statement runner with one connection: the first call holds it until
 * `release()`, so every later call waits and is grouped. `fail(ids)` decides, per
 * statement, which error it throws.
 */
function queueOf(
  budget = { maxRows: 4, maxPayloadChars: 100 },
  fail: (ids: string[]) => unknown = () => undefined,
) {
  const statements: string[][] = [];
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const queue = new PooledInsertQueue(
    async (rows) => {
      const ids = rows.map((r) => r.id);
      statements.push(ids);
      if (statements.length === 1) await held;
      const error = fail(ids);
      if (error) throw error;
      // A row whose id starts with "dup" stands for a duplicate of job `old-<id>`.
      return ids.some((id) => id.startsWith('dup'))
        ? ids.map((id) => (id.startsWith('dup') ? `old-${id}` : undefined))
        : undefined;
    },
    () => 1,
    budget,
  );
  return { queue, statements, release };
}

const settle = (calls: Promise<unknown>[]) =>
  Promise.allSettled(calls).then((results) => results.map((r) => r.status));

describe('PooledInsertQueue grouping', () => {
  it("gives each coalesced call its own rows' duplicates, and none to calls without", async () => {
    const { queue, statements, release } = queueOf();
    const calls = [
      queue.insert([row('first', 10)]),
      queue.insert([row('a', 10), row('dup1', 10)]),
      queue.insert([row('b', 10)]),
      queue.insert([row('dup2', 10)]),
    ];
    release();
    const results = await Promise.all(calls);
    expect(statements).toEqual([['first'], ['a', 'dup1', 'b', 'dup2']]);
    expect(results).toEqual([
      undefined,
      [undefined, 'old-dup1'],
      [undefined],
      ['old-dup2'],
    ]);
  });

  it('groups waiting calls up to the row bound, in order', async () => {
    const { queue, statements, release } = queueOf();
    const calls = [
      queue.insert([row('first', 10)]),
      ...['a', 'b', 'c', 'd', 'e'].map((id) => queue.insert([row(id, 10)])),
    ];
    release();
    await Promise.all(calls);
    expect(statements).toEqual([['first'], ['a', 'b', 'c', 'd'], ['e']]);
  });

  it('groups by payload size too: a large call goes in a smaller group or alone', async () => {
    const { queue, statements, release } = queueOf();
    const calls = [
      queue.insert([row('first', 10)]),
      queue.insert([row('a', 30)]),
      queue.insert([row('b', 60)]),
      queue.insert([row('large', 90)]),
      queue.insert([row('c', 10)]),
    ];
    release();
    await Promise.all(calls);
    expect(statements).toEqual([['first'], ['a', 'b'], ['large', 'c']]);
  });

  it('never puts ordered and unique rows in one statement (each kind has its own); plain rows join either', async () => {
    const { queue, statements, release } = queueOf({
      maxRows: 10,
      maxPayloadChars: 1_000,
    });
    const ordered = (id: string) => ({ ...row(id, 10), orderingKey: 'k' });
    const unique = (id: string) => ({
      ...row(id, 10),
      uniqueKey: id,
      uniqueStates: 1,
    });
    const calls = [
      queue.insert([row('first', 10)]),
      queue.insert([row('p1', 10)]),
      queue.insert([ordered('o1')]),
      queue.insert([row('p2', 10), ordered('o2')]),
      queue.insert([unique('u1')]),
      queue.insert([row('p3', 10)]),
      queue.insert([ordered('o3')]),
    ];
    release();
    await Promise.all(calls);
    expect(statements).toEqual([
      ['first'],
      ['p1', 'o1', 'p2', 'o2'],
      ['u1', 'p3'],
      ['o3'],
    ]);
  });

  it('never coalesces a call over the budget with others', async () => {
    const { queue, statements, release } = queueOf();
    const calls = [
      queue.insert([row('first', 10)]),
      queue.insert([row('a', 10)]),
      queue.insert([row('huge1', 80), row('huge2', 80)]),
      queue.insert([
        row('many1', 1),
        row('many2', 1),
        row('many3', 1),
        row('many4', 1),
        row('many5', 1),
      ]),
      queue.insert([row('b', 10)]),
    ];
    release();
    await Promise.all(calls);
    expect(statements).toEqual([
      ['first'],
      ['a'],
      ['huge1', 'huge2'],
      ['many1', 'many2', 'many3', 'many4', 'many5'],
      ['b'],
    ]);
  });

  it.each([
    ['a trigger', 'P0001'],
    ['a constraint', '23514'],
    ['a jsonb over its limit', '54000'],
    ['out of memory', '53200'],
    ['a statement timeout', '57014'],
    ['a deadlock', '40P01'],
  ])(
    'retries each call alone when the group is refused by %s, so only the culprit fails',
    async (_kind, code) => {
      const refused = Object.assign(new Error('refused'), { code });
      const { queue, statements, release } = queueOf(undefined, (ids) =>
        ids.includes('bad') ? refused : undefined,
      );
      const calls = [
        queue.insert([row('first', 10)]),
        queue.insert([row('a', 10)]),
        queue.insert([row('bad', 10)]),
        queue.insert([row('b', 10)]),
      ];
      release();
      expect(await settle(calls)).toEqual([
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
      ]);
      expect(statements).toEqual([
        ['first'],
        ['a', 'bad', 'b'],
        ['a'],
        ['bad'],
        ['b'],
      ]);
    },
  );

  it('does not retry after a connection error: the statement may have committed', async () => {
    const broken = Object.assign(new Error('Connection terminated'), {
      code: undefined,
    });
    const { queue, statements, release } = queueOf(undefined, (ids) =>
      ids.length > 1 ? broken : undefined,
    );
    const calls = [
      queue.insert([row('first', 10)]),
      queue.insert([row('a', 10)]),
      queue.insert([row('b', 10)]),
    ];
    release();
    expect(await settle(calls)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(statements).toEqual([['first'], ['a', 'b']]);
  });
});
