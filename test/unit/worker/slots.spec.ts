import { describe, expect, it } from '@jest/globals';
import { Slots } from '../../../packages/nest-jobs/src/worker/slots.js';
import { resolveWorkerOptions } from '../../../packages/nest-jobs/src/worker/worker.options.js';

const PROTOTYPE_NAMES = [
  'constructor',
  'toString',
  '__proto__',
  'hasOwnProperty',
];

describe('per-queue caps of queues named like Object.prototype members', () => {
  it('has no cap for them unless one is given', () => {
    const { queueConcurrency, concurrency } = resolveWorkerOptions({});
    const slots = new Slots(concurrency, queueConcurrency);
    for (const queue of PROTOTYPE_NAMES)
      expect([queue, slots.freeIn(queue)]).toEqual([queue, Infinity]);
  });

  it('takes their caps as given, own entries only', () => {
    // Computed keys: own entries, `__proto__` included (not the object's prototype).
    const { queueConcurrency } = resolveWorkerOptions({
      concurrency: 5,
      queueConcurrency: { ['constructor']: 1, ['__proto__']: 2 },
    });
    expect([...queueConcurrency]).toEqual([
      ['constructor', 1],
      ['__proto__', 2],
    ]);
    const slots = new Slots(5, queueConcurrency);
    slots.take('constructor');
    expect(slots.freeIn('constructor')).toBe(0);
    expect(slots.freeIn('__proto__')).toBe(2);
    expect(slots.freeIn('toString')).toBe(Infinity);
    expect(slots.free()).toBe(4);
  });
});
