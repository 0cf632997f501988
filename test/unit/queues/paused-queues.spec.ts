import { describe, expect, it } from '@jest/globals';
import { PausedQueues } from '../../../packages/nest-jobs/src/queues/paused-queues.js';
import type {
  PausedQueueRow,
  QueueRepository,
} from '../../../packages/nest-jobs/src/sql/queue.repository.js';

/** A PausedQueues whose reads wait until the test answers them with the paused queue names. */
function watch() {
  const answers: Array<(queues: string[]) => void> = [];
  const woken: Array<readonly string[] | 'all'> = [];
  const reads = {
    paused: () =>
      new Promise<PausedQueueRow[]>((resolve) =>
        answers.push((queues) =>
          resolve(queues.map((queue) => ({ queue, pausedAtMs: 0 }))),
        ),
      ),
  } as unknown as QueueRepository;
  const paused = new PausedQueues(reads, 1_000, (queues) =>
    woken.push(queues ?? 'all'),
  );
  const read = async (queues: string[]) => {
    const done = paused.runNow();
    answers.shift()!(queues);
    await done;
  };
  return { paused, answers, woken, read };
}

describe('PausedQueues', () => {
  it('counts every queue paused until the first read has answered, then wakes every queue', async () => {
    const { paused, woken, read } = watch();
    expect(paused.has('mail')).toBe(true);
    await read(['reports']);
    expect(paused.has('mail')).toBe(false);
    expect(paused.has('reports')).toBe(true);
    expect(woken).toEqual(['all']);
  });

  it('applies notifications at once, wakes a resumed queue, and a read corrects them', async () => {
    const { paused, woken, read } = watch();
    await read([]);
    paused.apply('mail', true);
    expect(paused.list()).toEqual(['mail']);
    paused.apply('mail', false);
    expect(woken).toEqual(['all', ['mail']]);
    // A pause whose notification was lost is learned by the next read...
    await read(['mail']);
    expect(paused.has('mail')).toBe(true);
    // ...and so is a lost resume, which wakes the queue.
    await read([]);
    expect(paused.has('mail')).toBe(false);
    expect(woken).toEqual(['all', ['mail'], ['mail']]);
  });

  it('keeps a pause heard while a read is out, whose snapshot may predate it', async () => {
    const { paused, answers } = watch();
    const first = paused.runNow();
    answers.shift()!([]);
    await first;
    const reading = paused.runNow();
    paused.apply('mail', true);
    answers.shift()!([]);
    await reading;
    expect(paused.has('mail')).toBe(true);
  });
});
