/**
 * The queues a worker subscribes to by pattern (`worker.queues: ['emails.*']`): `*` matches
 * any run of characters (none included), everything else itself. Queues need no set-up: a
 * queue is the name its jobs carry, and a worker finds the queues its patterns match among
 * those that have jobs (QueueDiscovery) or that a notification names.
 */
export class QueuePatterns {
  private readonly expressions: RegExp[];

  constructor(readonly patterns: readonly string[]) {
    this.expressions = patterns.map(
      (pattern) =>
        new RegExp(
          `^${pattern
            .split('*')
            .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
            .join('.*')}$`,
          's',
        ),
    );
  }

  /** Whether a `worker.queues` entry is a pattern (it contains `*`). */
  static isPattern(entry: string): boolean {
    return entry.includes('*');
  }

  get empty(): boolean {
    return this.expressions.length === 0;
  }

  matches(queue: string): boolean {
    return this.expressions.some((expression) => expression.test(queue));
  }
}
