import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Job, JobsService } from 'nest-jobs';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { insertJobRow, waitForStatus } from '../../support/jobs-table.js';

/**
 * Issue 18, point 3: queue and job names are the user's strings, never keys of plain
 * objects. A queue named like a member of Object.prototype once got a function as its
 * concurrency cap, and every claim went out with `LIMIT NaN`.
 */
const NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];

@Injectable()
class PrototypeNamedHandlers {
  @Job({ name: 'constructor', queue: 'constructor' })
  a() {
    return undefined;
  }

  @Job({ name: 'toString', queue: 'toString' })
  b() {
    return undefined;
  }

  @Job({ name: '__proto__', queue: '__proto__' })
  c() {
    return undefined;
  }

  @Job({ name: 'hasOwnProperty', queue: 'hasOwnProperty' })
  d() {
    return undefined;
  }
}

describe('worker: queues and jobs named like Object.prototype members', () => {
  const suite = useJobsSuite('worker_prototype_names');
  const { db } = suite;

  const run = async (queueConcurrency?: Record<string, number>) => {
    const app = await suite.app({
      providers: [PrototypeNamedHandlers],
      jobs: {
        worker: {
          pollIntervalMs: 20,
          concurrency: 4,
          ...(queueConcurrency ? { queueConcurrency } : {}),
        },
      },
    });
    const jobs = app.get(JobsService);
    const enqueued = await Promise.all(
      NAMES.map((name) => jobs.enqueue(name, {})),
    );
    // Written by hand too: the worker alone, whatever a producer checks.
    const inserted = await Promise.all(
      NAMES.map((name) => insertJobRow(db, { queue: name, job_type: name })),
    );
    for (const id of [...enqueued, ...inserted.map((row) => row.id)])
      expect(
        (await waitForStatus(db, id, ['completed', 'failed'])).status,
      ).toBe('completed');
    await app.close();
  };

  it('runs them end to end without per-queue caps', async () => {
    await run();
  });

  it('runs them end to end with per-queue caps, named or not', async () => {
    // Computed keys: an own `__proto__` entry, not the object's prototype.
    await run({ ['constructor']: 1, ['__proto__']: 2 });
  });
});
