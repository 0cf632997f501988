import { describe, expect, it } from '@jest/globals';
import { InvalidJobsOptionError } from '../../../packages/nest-jobs/src/errors/invalid-options.error.js';
import { resolveQueuePolicies } from '../../../packages/nest-jobs/src/queues/queue-policies.options.js';

describe('queuePolicies module option', () => {
  it('resolves ordered queues and their failure policy (block by default)', () => {
    const { ordered } = resolveQueuePolicies({
      ledger: { ordered: true },
      mails: { ordered: true, onFailedJob: 'continue' },
      constructor: { ordered: true, onFailedJob: 'block' },
      plain: {},
      off: { ordered: false },
    });
    expect([...ordered]).toEqual([
      ['ledger', { blockOnFailure: true }],
      ['mails', { blockOnFailure: false }],
      ['constructor', { blockOnFailure: true }],
    ]);
    expect(resolveQueuePolicies(undefined).ordered.size).toBe(0);
  });

  it('resolves cluster-wide limits; ordered and limited queues claim again after an outcome', () => {
    const { concurrency, keyConcurrency, claimAfterOutcome } =
      resolveQueuePolicies({
        mails: { concurrency: 5 },
        ledger: { ordered: true, concurrency: 100_000 },
        tenants: { keyConcurrency: 2 },
        plain: {},
      });
    expect([...keyConcurrency]).toEqual([['tenants', 2]]);
    expect([
      ...resolveQueuePolicies({
        api: { rateLimit: { limit: 10, periodMs: 1_000 } },
      }).rateLimit,
    ]).toEqual([['api', { limit: 10, periodMs: 1_000 }]]);
    expect([...concurrency]).toEqual([
      ['mails', 5],
      ['ledger', 100_000],
    ]);
    expect([...claimAfterOutcome].sort()).toEqual([
      'ledger',
      'mails',
      'tenants',
    ]);
  });

  it('resolves rates per key and fair queues; keyed queues are those whose jobs carry a concurrencyKey', () => {
    const { keyRateLimit, keyed, claimAfterOutcome } = resolveQueuePolicies({
      api: { keyRateLimit: { limit: 10, periodMs: 1_000 } },
      ledger: { ordered: true, keyRateLimit: { limit: 1, periodMs: 50 } },
      tenants: { fair: true },
      limited: { keyConcurrency: 2, fair: false },
      plain: { fair: false },
    });
    expect([...keyRateLimit]).toEqual([
      ['api', { limit: 10, periodMs: 1_000 }],
      ['ledger', { limit: 1, periodMs: 50 }],
    ]);
    // An ordered queue is keyed by orderingKey, not concurrencyKey.
    expect([...keyed].sort()).toEqual(['api', 'limited', 'tenants']);
    expect([...claimAfterOutcome].sort()).toEqual(['ledger', 'limited']);
  });

  it('resolves weights per key of a fair queue; weighing every key alike is the plain fair queue', () => {
    const { weights, keyed } = resolveQueuePolicies({
      tenants: { fair: { weights: { 'tenant:big': 3, 'tenant:vip': 5 } } },
      heavy: { fair: { defaultWeight: 2 }, keyConcurrency: 4 },
      even: { fair: { weights: { a: 1 } } },
      empty: { fair: {} },
    });
    expect([...keyed].sort()).toEqual(['empty', 'even', 'heavy', 'tenants']);
    expect([...weights.keys()].sort()).toEqual(['heavy', 'tenants']);
    const tenants = weights.get('tenants')!;
    expect([...tenants.byKey]).toEqual([
      ['tenant:big', 3],
      ['tenant:vip', 5],
    ]);
    expect(tenants.defaultWeight).toBe(1);
    expect(JSON.parse(tenants.json)).toEqual({
      'tenant:big': 3,
      'tenant:vip': 5,
    });
    expect(weights.get('heavy')).toMatchObject({
      defaultWeight: 2,
      json: '{}',
    });
    // A key that is also an Object.prototype name is an own key like any other.
    const proto = resolveQueuePolicies({
      q: {
        fair: { weights: JSON.parse('{"__proto__": 2, "constructor": 3}') },
      },
    }).weights.get('q')!;
    expect(JSON.parse(proto.json)).toEqual(
      JSON.parse('{"__proto__": 2, "constructor": 3}'),
    );
  });

  it('refuses symbol keys in fair.weights', () => {
    expect(() =>
      resolveQueuePolicies({
        q: { fair: { weights: { [Symbol('k')]: 2 } } },
      }),
    ).toThrow(/string keys/);
  });

  it.each<[unknown, string, RegExp]>([
    [
      { q: { keyRateLimit: { limit: 0, periodMs: 1000 } } },
      'queuePolicies.q.keyRateLimit.limit',
      /between 1 and 1000000/,
    ],
    [
      { q: { keyRateLimit: { limit: 2, periodMs: 0 } } },
      'queuePolicies.q.keyRateLimit.periodMs',
      /between 1 and 86400000/,
    ],
    [
      { q: { keyRateLimit: { limit: '2', periodMs: 10 } } },
      'queuePolicies.q.keyRateLimit.limit',
      /integer/,
    ],
    [{ q: { keyRateLimit: [] } }, 'queuePolicies.q.keyRateLimit', /an object/],
    [
      { q: { keyRateLimit: { limit: 2, periodMs: 10, key: 'x' } } },
      'queuePolicies.q.keyRateLimit.key',
      /unknown option/,
    ],
    [{ q: { fair: 1 } }, 'queuePolicies.q.fair', /true or false/],
    [{ q: { fair: new Map() } }, 'queuePolicies.q.fair', /plain object/],
    [{ q: { fair: [] } }, 'queuePolicies.q.fair', /plain object/],
    [
      { q: { fair: { weights: { a: 1.5 } } } },
      'queuePolicies.q.fair.weights.a',
      /integer/,
    ],
    [
      { q: { fair: { weights: { a: 0 } } } },
      'queuePolicies.q.fair.weights.a',
      /between 1 and 1000/,
    ],
    [
      { q: { fair: { weights: { a: -3 } } } },
      'queuePolicies.q.fair.weights.a',
      /between 1 and 1000/,
    ],
    [
      { q: { fair: { weights: { a: 1_001 } } } },
      'queuePolicies.q.fair.weights.a',
      /between 1 and 1000/,
    ],
    [
      { q: { fair: { weights: { a: '2' } } } },
      'queuePolicies.q.fair.weights.a',
      /integer/,
    ],
    [
      { q: { fair: { weights: { a: Number.NaN } } } },
      'queuePolicies.q.fair.weights.a',
      /integer/,
    ],
    [
      { q: { fair: { weights: { ' a': 2 } } } },
      'queuePolicies.q.fair.weights (key)',
      /white space/,
    ],
    [
      { q: { fair: { weights: { '': 2 } } } },
      'queuePolicies.q.fair.weights (key)',
      /non-empty/,
    ],
    [
      { q: { fair: { weights: { ['k'.repeat(256)]: 2 } } } },
      'queuePolicies.q.fair.weights (key)',
      /at most 255/,
    ],
    [
      { q: { fair: { weights: { 'a\u0000b': 2 } } } },
      'queuePolicies.q.fair.weights (key)',
      /PostgreSQL can store/,
    ],
    [
      { q: { fair: { weights: new Map([['a', 2]]) } } },
      'queuePolicies.q.fair.weights',
      /plain object/,
    ],
    [
      { q: { fair: { weights: [2, 3] } } },
      'queuePolicies.q.fair.weights',
      /plain object/,
    ],
    [
      { q: { fair: { weights: 3 } } },
      'queuePolicies.q.fair.weights',
      /plain object/,
    ],
    [
      {
        q: {
          fair: {
            weights: Object.fromEntries(
              Array.from({ length: 10_001 }, (_, i) => [`k${i}`, 2]),
            ),
          },
        },
      },
      'queuePolicies.q.fair.weights',
      /at most 10000 keys/,
    ],
    [
      { q: { fair: { defaultWeight: 0 } } },
      'queuePolicies.q.fair.defaultWeight',
      /between 1 and 1000/,
    ],
    [
      { q: { fair: { defaultWeight: 2.5 } } },
      'queuePolicies.q.fair.defaultWeight',
      /integer/,
    ],
    [
      { q: { fair: { weight: { a: 2 } } } },
      'queuePolicies.q.fair.weight',
      /unknown option/,
    ],
    [
      { q: { ordered: true, fair: { weights: { a: 2 } } } },
      'queuePolicies.q.fair',
      /cannot be combined with ordered/,
    ],
    [
      { q: { ordered: true, fair: true } },
      'queuePolicies.q.fair',
      /cannot be combined with ordered/,
    ],
    [[], 'queuePolicies', /an object/],
    [null, 'queuePolicies', /an object/],
    [{ ledger: 1 }, 'queuePolicies.ledger', /an object/],
    [
      { ledger: { ordered: 'yes' } },
      'queuePolicies.ledger.ordered',
      /true or false/,
    ],
    [
      { ledger: { sorted: true } },
      'queuePolicies.ledger.sorted',
      /unknown option/,
    ],
    [
      { ledger: { ordered: true, onFailedJob: 'skip' } },
      'queuePolicies.ledger.onFailedJob',
      /'block', 'continue'/,
    ],
    [
      { ledger: { onFailedJob: 'block' } },
      'queuePolicies.ledger.onFailedJob',
      /ordered queues only/,
    ],
    [{ '': { ordered: true } }, 'queuePolicies (queue name)', /non-empty/],
    [
      { q: { keyConcurrency: 0 } },
      'queuePolicies.q.keyConcurrency',
      /between 1 and 100000/,
    ],
    [
      { q: { keyConcurrency: -2 } },
      'queuePolicies.q.keyConcurrency',
      /between 1 and 100000/,
    ],
    [
      { q: { ordered: true, keyConcurrency: 2 } },
      'queuePolicies.q.keyConcurrency',
      /cannot be combined with ordered/,
    ],
    [{ q: { rateLimit: 5 } }, 'queuePolicies.q.rateLimit', /an object/],
    [
      { q: { rateLimit: { limit: 0, periodMs: 1000 } } },
      'queuePolicies.q.rateLimit.limit',
      /between 1 and 1000000/,
    ],
    [
      { q: { rateLimit: { limit: 5, periodMs: -1 } } },
      'queuePolicies.q.rateLimit.periodMs',
      /between 1 and 86400000/,
    ],
    [
      { q: { rateLimit: { limit: 5 } } },
      'queuePolicies.q.rateLimit.periodMs',
      /integer/,
    ],
    [
      { q: { rateLimit: { limit: 5, periodMs: 10, burst: 2 } } },
      'queuePolicies.q.rateLimit.burst',
      /unknown option/,
    ],
    [
      { q: { concurrency: 0 } },
      'queuePolicies.q.concurrency',
      /between 1 and 100000/,
    ],
    [
      { q: { concurrency: -3 } },
      'queuePolicies.q.concurrency',
      /between 1 and 100000/,
    ],
    [{ q: { concurrency: 1.5 } }, 'queuePolicies.q.concurrency', /integer/],
    [{ q: { concurrency: '4' } }, 'queuePolicies.q.concurrency', /integer/],
    [
      { q: { concurrency: 100_001 } },
      'queuePolicies.q.concurrency',
      /between 1 and 100000/,
    ],
    [{ ' q': { ordered: true } }, 'queuePolicies (queue name)', /white space/],
  ])('%j is refused naming %s', (value, option, message) => {
    let error: unknown;
    try {
      resolveQueuePolicies(value);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidJobsOptionError);
    expect((error as InvalidJobsOptionError).option).toBe(option);
    expect((error as Error).message).toMatch(message);
  });
});
