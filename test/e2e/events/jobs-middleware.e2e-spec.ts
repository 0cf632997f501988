import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import {
  Job,
  JobsMiddleware,
  JobsMiddlewareError,
  JobsService,
  type EnqueuedJobInfo,
  type JobContext,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { jobRow, jobRows, waitForStatus } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';
import { useJobsSuite } from '../../support/jobs-suite.js';

/** What the middleware and handlers saw, in order, and how the test steers them. */
class Trail {
  readonly steps: string[] = [];
  enqueueMode: 'pass' | 'refuse' | 'skip-next' | 'throw-after' = 'pass';
  workMode: 'pass' | 'skip' | 'throw' = 'pass';
  readonly enqueued: Array<{
    jobs: readonly EnqueuedJobInfo[];
    transactional: boolean;
  }> = [];
}

@JobsMiddleware({ order: 2 })
@Injectable()
class InnerMiddleware implements JobsMiddleware {
  constructor(@Inject(Trail) private readonly trail: Trail) {}

  async work(payload: unknown, ctx: JobContext, next: () => unknown) {
    this.trail.steps.push(`inner:before:${ctx.name}`);
    if (this.trail.workMode === 'skip') return undefined;
    if (this.trail.workMode === 'throw') throw new Error('middleware refused');
    const result = await next();
    this.trail.steps.push('inner:after');
    return result;
  }
}

@JobsMiddleware({ order: 1 })
@Injectable()
class OuterMiddleware implements JobsMiddleware {
  constructor(@Inject(Trail) private readonly trail: Trail) {}

  async work(_payload: unknown, _ctx: JobContext, next: () => unknown) {
    this.trail.steps.push('outer:before');
    try {
      return await next();
    } finally {
      this.trail.steps.push('outer:after');
    }
  }

  async enqueue(
    jobs: readonly EnqueuedJobInfo[],
    next: () => Promise<void>,
    context: { transactional: boolean },
  ) {
    this.trail.enqueued.push({ jobs, ...context });
    switch (this.trail.enqueueMode) {
      case 'refuse':
        throw new Error('enqueue refused by policy');
      case 'skip-next':
        return;
      case 'throw-after':
        await next();
        throw new Error('audit log down');
      default:
        await next();
    }
  }
}

@Injectable()
class MiddlewareHandlers {
  constructor(@Inject(Trail) private readonly trail: Trail) {}

  @Job({ name: 'mw.run', queue: 'mw', maxRetries: 0 })
  run(payload: { n: number }) {
    this.trail.steps.push(`handler:${payload.n}`);
  }
}

describe('middleware: around enqueue and around work', () => {
  const suite = useJobsSuite('middleware', { clearJobsAfterEach: true });
  const { db } = suite;
  const start = async () => {
    const trail = new Trail();
    const app = await suite.app({
      // Listed inner first: the order option, not the provider order, decides the nesting.
      providers: [
        { provide: Trail, useValue: trail },
        InnerMiddleware,
        OuterMiddleware,
        MiddlewareHandlers,
      ],
      jobs: { worker: { pollIntervalMs: 50 } },
    });
    return { app, trail, jobs: app.get(JobsService) };
  };

  it('wraps every handler call, lowest order outermost, with the real JobContext', async () => {
    const { trail, jobs } = await start();
    const id = await jobs.enqueue(MiddlewareHandlers, 'run', { n: 1 });
    await waitForStatus(db, id, 'completed');
    expect(trail.steps).toEqual([
      'outer:before',
      'inner:before:mw.run',
      'handler:1',
      'inner:after',
      'outer:after',
    ]);
  });

  it('a work hook that throws fails the attempt like the handler would; one that skips next() completes it without the handler', async () => {
    const { trail, jobs } = await start();
    trail.workMode = 'throw';
    const failed = await jobs.enqueue(MiddlewareHandlers, 'run', { n: 2 });
    await waitForStatus(db, failed, 'failed');
    expect((await jobRow(db, failed))!.last_error).toContain(
      'middleware refused',
    );
    trail.workMode = 'skip';
    const skipped = await jobs.enqueue(MiddlewareHandlers, 'run', { n: 3 });
    await waitForStatus(db, skipped, 'completed');
    expect(trail.steps).not.toContain('handler:2');
    expect(trail.steps).not.toContain('handler:3');
  });

  it('an enqueue hook sees the checked jobs, pooled or in the transaction, before they are written', async () => {
    const { app, trail, jobs } = await start();
    const [a, b] = await jobs.enqueueMany(MiddlewareHandlers, 'run', [
      { n: 4 },
      { n: 5 },
    ]);
    expect(trail.enqueued[0]).toMatchObject({
      transactional: false,
      jobs: [
        { id: a, name: 'mw.run', queue: 'mw', payload: { n: 4 } },
        { id: b, payload: { n: 5 } },
      ],
    });
    await app.get(DataSource).transaction(async (manager) => {
      await jobs.enqueue(MiddlewareHandlers, 'run', { n: 6 }, { manager });
    });
    expect(trail.enqueued[1]).toMatchObject({ transactional: true });
  });

  it('an enqueue hook that throws refuses the enqueue: its error reaches the caller and nothing is written', async () => {
    const { trail, jobs } = await start();
    trail.enqueueMode = 'refuse';
    await expect(
      jobs.enqueue(MiddlewareHandlers, 'run', { n: 7 }),
    ).rejects.toThrow('enqueue refused by policy');
    trail.enqueueMode = 'skip-next';
    const skipped = jobs.enqueue(MiddlewareHandlers, 'run', { n: 8 });
    await expect(skipped).rejects.toBeInstanceOf(JobsMiddlewareError);
    await expect(skipped).rejects.toThrow(
      'OuterMiddleware returned without calling next(): the jobs were not written',
    );
    expect(await jobRows(db)).toEqual([]);
  });

  it('an enqueue hook that fails after the rows were written does not fail the enqueue (no duplicate on a retry)', async () => {
    const { app, trail, jobs } = await start();
    trail.enqueueMode = 'throw-after';
    const id = await jobs.enqueue(MiddlewareHandlers, 'run', { n: 9 });
    expect(await jobRow(db, id)).toBeDefined();
    expect(
      app.logger
        .messages('error')
        .some(
          (m) =>
            m.includes('after the jobs were written') &&
            m.includes('audit log down'),
        ),
    ).toBe(true);
  });
});
