import { describe, expect, it } from '@jest/globals';
import { QueuePatterns } from '../../../packages/nest-jobs/src/queues/queue-patterns.js';

describe('QueuePatterns (worker.queues entries with *)', () => {
  it('* matches any run of characters, the rest matches itself', () => {
    const patterns = new QueuePatterns(['emails.*', '*-eu', 'a*b*c']);
    for (const queue of [
      'emails.',
      'emails.eu',
      'emails.a.b',
      'x-eu',
      '-eu',
      'abc',
      'a-b-c',
    ])
      expect([queue, patterns.matches(queue)]).toEqual([queue, true]);
    for (const queue of ['emails', 'emailsXeu', 'x-eu2', 'ab', 'xabc'])
      expect([queue, patterns.matches(queue)]).toEqual([queue, false]);
  });

  it('characters special in regular expressions stand for themselves', () => {
    const patterns = new QueuePatterns(['q(1)+[x].*']);
    expect(patterns.matches('q(1)+[x].anything')).toBe(true);
    expect(patterns.matches('q1x.anything')).toBe(false);
    expect(new QueuePatterns(['line*']).matches('line\nbreak')).toBe(true);
  });

  it('tells patterns from names, and an empty set matches nothing', () => {
    expect(QueuePatterns.isPattern('emails.*')).toBe(true);
    expect(QueuePatterns.isPattern('emails')).toBe(false);
    expect(new QueuePatterns([]).empty).toBe(true);
    expect(new QueuePatterns([]).matches('anything')).toBe(false);
  });
});
