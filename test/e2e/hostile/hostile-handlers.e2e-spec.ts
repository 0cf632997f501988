import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Job, JobsService } from 'nest-jobs';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import {
  insertJobRow,
  jobRow,
  waitForStatus,
  type JobRow,
} from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/**
 * Issue 18, point 2 on the worker side: a handler or a `validate` may throw, return or
 * reject with anything. Whatever it is, its job ends `completed` or `failed` (never left
 * `running`), the other jobs of the same claim run, the process lives, and `last_error`
 * is text PostgreSQL stored.
 */

const Q = 'hostile';

/** Values that are hard to inspect, by name (payloads are JSON, the values are not). */
const KINDS = [
  'revokedProxy',
  'throwingThen',
  'throwingGetters',
  'null',
  'undefined',
  'symbol',
  'bigint',
  'hugeString',
  'nulAndSurrogate',
] as const;
type Kind = (typeof KINDS)[number];

function hostile(kind: Kind): unknown {
  switch (kind) {
    case 'revokedProxy': {
      const { proxy, revoke } = Proxy.revocable({}, {});
      revoke();
      return proxy;
    }
    case 'throwingThen':
      return Object.defineProperty({}, 'then', {
        get() {
          throw new Error('then getter');
        },
      });
    case 'throwingGetters': {
      const value = new Error('getters');
      for (const key of ['message', 'stack', 'name', 'cause', 'toString'])
        Object.defineProperty(value, key, {
          get() {
            throw new Error(`no ${key}`);
          },
        });
      return value;
    }
    case 'null':
      return null;
    case 'undefined':
      return undefined;
    case 'symbol':
      return Symbol('hostile');
    case 'bigint':
      return 10n ** 40n;
    case 'hugeString':
      return 'h'.repeat(20_000_000);
    case 'nulAndSurrogate':
      return new Error('nul\u0000 and a lone \ud800 surrogate');
  }
}

/** How a handler hands over the value. */
const MODES = ['throw', 'throwAsync', 'return', 'resolve', 'reject'] as const;

@Injectable()
class HostileHandlers {
  @Job({ name: 'hostile.throw', queue: Q, maxRetries: 0 })
  throwSync(payload: { kind: Kind }) {
    throw hostile(payload.kind);
  }

  @Job({ name: 'hostile.throwAsync', queue: Q, maxRetries: 0 })
  async throwAsync(payload: { kind: Kind }) {
    await null;
    throw hostile(payload.kind);
  }

  @Job({ name: 'hostile.return', queue: Q, maxRetries: 0 })
  returnSync(payload: { kind: Kind }) {
    return hostile(payload.kind);
  }

  @Job({ name: 'hostile.resolve', queue: Q, maxRetries: 0 })
  async resolve(payload: { kind: Kind }) {
    await null;
    return hostile(payload.kind);
  }

  @Job({ name: 'hostile.reject', queue: Q, maxRetries: 0 })
  reject(payload: { kind: Kind }) {
    return Promise.reject(hostile(payload.kind));
  }

  @Job({ name: 'hostile.normal', queue: Q })
  normal() {
    return undefined;
  }

  /** Retried once: the sanitised text is written on the retry and on the final failure. */
  @Job({ name: 'hostile.nulRetried', queue: Q, maxRetries: 1 })
  nulRetried() {
    throw new Error('nul\u0000 and a lone \udc00 surrogate');
  }

  @Job({
    name: 'hostile.validateThrows',
    queue: Q,
    validate: (payload) => {
      throw hostile((payload as { kind: Kind }).kind);
    },
  })
  validateThrows() {
    return undefined;
  }

  @Job({
    name: 'hostile.validateRejects',
    queue: Q,
    validate: (payload) =>
      Promise.reject(hostile((payload as { kind: Kind }).kind)),
  })
  validateRejects() {
    return undefined;
  }

  @Job({
    name: 'hostile.validateReturns',
    queue: Q,
    // Typed to return void or a promise; plain JavaScript (or a cast) can return anything.
    validate: (payload) => hostile((payload as { kind: Kind }).kind) as never,
  })
  validateReturns() {
    return undefined;
  }

  /** An async validator that never settles: the job's timeout ends the attempt. */
  @Job({
    name: 'hostile.validateHangs',
    queue: Q,
    timeoutMs: 200,
    maxRetries: 0,
    validate: () => new Promise(() => undefined),
  })
  validateHangs() {
    return undefined;
  }

  /** An async validator that accepts: the handler runs after it resolved. */
  @Job({
    name: 'hostile.validateResolves',
    queue: Q,
    validate: async () => true,
  })
  validateResolves() {
    return undefined;
  }
}

describe('hostile handlers', () => {
  const suite = useJobsSuite('hostile_handlers');
  const { db } = suite;
  const crashes: unknown[] = [];
  const onCrash = (error: unknown) => crashes.push(error);

  beforeAll(() => {
    process.on('unhandledRejection', onCrash);
    process.on('uncaughtException', onCrash);
  });
  afterAll(() => {
    process.off('unhandledRejection', onCrash);
    process.off('uncaughtException', onCrash);
  });

  const start = () =>
    suite.app({
      providers: [EventLog, HostileHandlers],
      jobs: {
        retry: { baseMs: 20 },
        worker: { pollIntervalMs: 20, concurrency: 100, batchSize: 100 },
      },
    });

  const ended = (id: string) =>
    waitForStatus(db, id, ['completed', 'failed'], { timeoutMs: 20_000 });

  /** `last_error` is bounded text without what PostgreSQL refuses. */
  const expectReadable = (row: JobRow) => {
    if (row.status === 'completed') return;
    const text = row.last_error ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(text.length).toBeLessThanOrEqual(4_000);
    expect(text).not.toMatch(/\u0000/);
  };

  it('ends every job of a claim that mixes hostile and normal handlers, sync and async', async () => {
    const app = await start();
    const requests = [
      ...MODES.flatMap((mode) =>
        KINDS.map((kind) => ({ name: `hostile.${mode}`, payload: { kind } })),
      ),
      ...Array.from({ length: 10 }, () => ({
        name: 'hostile.normal',
        payload: {},
      })),
    ];
    // One insert: the worker's next claim (100 slots) takes all of them together.
    const ids = await app.get(JobsService).enqueueMany(requests);
    const rows = await Promise.all(ids.map(ended));
    rows.forEach((row, index) => {
      const { name, payload } = requests[index]!;
      const label = `${name} ${JSON.stringify(payload)}`;
      expect([label, row.locked_until]).toEqual([label, null]);
      expectReadable(row);
      const mode = name.slice('hostile.'.length);
      const kind = (payload as { kind?: Kind }).kind;
      if (mode === 'normal') expect(row.status).toBe('completed');
      if (mode === 'throw' || mode === 'throwAsync' || mode === 'reject')
        expect([label, row.status]).toEqual([label, 'failed']);
      if (kind === 'nulAndSurrogate' && row.status === 'failed')
        expect(row.last_error!).toMatch(
          /^Error: nul\ufffd and a lone \ufffd surrogate/,
        );
    });
    // A returned value is the handler's result, except one that cannot be awaited.
    const returned = (kind: Kind) =>
      rows[MODES.indexOf('return') * KINDS.length + KINDS.indexOf(kind)]!;
    expect(returned('null').status).toBe('completed');
    expect(returned('revokedProxy').status).toBe('failed');
    expect(returned('throwingThen').last_error).toMatch(/then getter/);
    expect(crashes).toEqual([]);
    await app.close();
  });

  it('records U+0000 and lone surrogates sanitised, and later outcomes are not blocked', async () => {
    const app = await start();
    const jobs = app.get(JobsService);
    const nul = await jobs.enqueue(HostileHandlers, 'nulRetried', {});
    const row = await ended(nul);
    expect(row).toMatchObject({ status: 'failed', attempts: 2 });
    expect(row.last_error).toMatch(
      /^Error: nul\ufffd and a lone \ufffd surrogate\n/,
    );
    // The outcome writer moved on: a job enqueued after it completes.
    const later = await jobs.enqueue(HostileHandlers, 'normal', {});
    expect((await ended(later)).status).toBe('completed');
    expect(app.get(EventLog).of('job.retried')).toContainEqual(
      expect.objectContaining({
        job: expect.objectContaining({ id: nul, attempt: 1 }),
      }),
    );
    expect(crashes).toEqual([]);
    await app.close();
  });

  it('fails for good a job whose validate throws or rejects with anything, and awaits an accepting one', async () => {
    const app = await start();
    // Written by hand: this is about the worker, not what a producer checks.
    const rows = await Promise.all(
      ['validateThrows', 'validateRejects', 'validateReturns'].flatMap((name) =>
        KINDS.filter((kind) => kind !== 'hugeString').map((kind) =>
          insertJobRow(db, {
            queue: Q,
            job_type: `hostile.${name}`,
            payload: { kind },
          }),
        ),
      ),
    );
    const accepted = await insertJobRow(db, {
      queue: Q,
      job_type: 'hostile.validateResolves',
      payload: {},
    });
    for (const inserted of rows) {
      const row = await ended(inserted.id);
      expect(row.locked_until).toBeNull();
      expectReadable(row);
      if (inserted.job_type !== 'hostile.validateReturns') {
        expect([inserted.job_type, row.status, row.attempts]).toEqual([
          inserted.job_type,
          'failed',
          1,
        ]);
        expect(row.last_error).toMatch(/^PayloadDecodeError: Payload rejected/);
      }
    }
    expect((await ended(accepted.id)).status).toBe('completed');
    const hangs = await insertJobRow(db, {
      queue: Q,
      job_type: 'hostile.validateHangs',
      max_retries: 0,
    });
    const timedOut = await ended(hangs.id);
    expect(timedOut.status).toBe('failed');
    expect(timedOut.last_error).toMatch(
      /^JobTimeoutError: Job timed out after 200 ms/,
    );
    expect(crashes).toEqual([]);
    await app.close();
  });

  it('ignores a stored retry policy enqueue would refuse, so the retry can be recorded, and writes the rest of its batch', async () => {
    const app = await start();
    // A hand-written policy whose delay is out of bigint's range: used as it is, the failure
    // write would be refused for its data however often it is sent.
    const huge = 1e300;
    const ignored = await insertJobRow(db, {
      queue: Q,
      job_type: 'hostile.nulRetried',
      max_retries: 1,
      retry_policy: { type: 'fixed', baseMs: huge, capMs: huge },
    });
    const others = await Promise.all(
      Array.from({ length: 5 }, () =>
        insertJobRow(db, { queue: Q, job_type: 'hostile.normal' }),
      ),
    );
    // Retried by the module's policy (the suite's short backoff), then failed for good.
    const row = await ended(ignored.id);
    expect(row).toMatchObject({ status: 'failed', attempts: 2 });
    expect(row.last_error).toMatch(/^Error: nul\ufffd/);
    expect(
      app.logger
        .messages('warn')
        .some((line) =>
          line.includes(
            'Ignoring a stored retry_policy that enqueue would have refused',
          ),
        ),
    ).toBe(true);
    for (const other of others)
      expect((await ended(other.id)).status).toBe('completed');
    expect(crashes).toEqual([]);
    await app.close();
  });
});
