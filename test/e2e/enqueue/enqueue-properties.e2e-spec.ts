import { beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import fc from 'fast-check';
import {
  InvalidJobsOptionError,
  InvalidPayloadError,
  Job,
  JobsService,
  UnknownJobError,
  type JobContext,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { jobRow } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

/**
 * Property-based: generated payloads, names and options are either refused with a typed
 * error before any SQL is sent, or arrive exactly as the manual says (JSON's image of the
 * value). Bounded runs against the real database, so the file stays a few seconds; a
 * failure prints fast-check's seed and shrunk counterexample.
 */

/** Any UTF-16 unit, so U+0000 and lone surrogates come up often. */
const anyUnit = fc
  .oneof(
    fc.integer({ min: 0, max: 0xffff }),
    fc.constantFrom(0, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0x20),
    fc.integer({ min: 0x61, max: 0x7a }),
  )
  .map((code) => String.fromCharCode(code));
const hostileString = fc.string({ unit: anyUnit, maxLength: 12 });
/** Mostly text PostgreSQL stores (astral characters included), sometimes hostile. */
const someString = fc.oneof(
  {
    arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }),
    weight: 3,
  },
  { arbitrary: hostileString, weight: 1 },
);

const received = new Map<string, unknown>();

@Injectable()
class Echo {
  @Job({ name: 'prop.echo' })
  echo(payload: unknown, ctx: JobContext) {
    received.set(ctx.id, payload);
  }
}

const TYPED = [InvalidPayloadError, InvalidJobsOptionError, UnknownJobError];

function expectTyped(error: unknown): void {
  if (!TYPED.some((type) => error instanceof type)) throw error;
}

describe('enqueue properties', () => {
  const suite = useJobsSuite('enqueue_properties', {
    clearJobsAfterEach: true,
  });
  const { db } = suite;
  let jobs: JobsService;
  let dataSource: DataSource;

  beforeAll(async () => {
    const app = await suite.app({
      providers: [Echo],
      jobs: { validateJobNames: false, worker: { pollIntervalMs: 50 } },
    });
    jobs = app.get(JobsService);
    dataSource = app.get(DataSource);
  });

  it('a payload is refused with a typed error, or reaches the handler as JSON makes it (bytes as a Buffer)', async () => {
    const payload = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.anything({
        maxDepth: 3,
        key: hostileString,
        values: [
          hostileString,
          fc.double(),
          fc.boolean(),
          fc.constant(null),
          fc.constant(undefined),
        ],
        withBigInt: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withTypedArray: true,
        withSparseArray: true,
        withNullPrototype: true,
        withBoxedValues: true,
      }),
    );
    await fc.assert(
      fc.asyncProperty(payload, async (value) => {
        const outcome = await jobs.enqueue('prop.echo', value).then(
          (id) => ({ id }),
          (error: unknown) => ({ error }),
        );
        if ('error' in outcome) return expectTyped(outcome.error);
        const got = await waitFor(
          `job ${outcome.id} handled`,
          () => received.has(outcome.id) && received,
          { intervalMs: 2, timeoutMs: 5_000 },
        );
        // A Uint8Array as the whole payload is a binary payload: its bytes, as a Buffer.
        expect(got.get(outcome.id)).toEqual(
          value instanceof Uint8Array
            ? Buffer.from(value)
            : JSON.parse(JSON.stringify(value)),
        );
      }),
      { numRuns: 150 },
    );
  });

  it('names, queues, trace ids and dates are refused with a typed error without aborting the transaction, or stored exactly', async () => {
    const request = fc.record({
      name: fc.oneof(
        hostileString,
        fc.constantFrom('constructor', '__proto__'),
      ),
      queue: fc.oneof(
        hostileString,
        fc.constantFrom('toString', 'hasOwnProperty'),
      ),
      traceId: fc.option(hostileString, { nil: undefined }),
      runAt: fc.option(fc.date(), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ name, queue, traceId, runAt }) => {
        let outcome: { id: string } | { error: unknown } | undefined;
        await dataSource.transaction(async (manager) => {
          outcome = await jobs
            .enqueue(name, { ok: 1 }, { queue, traceId, runAt, manager })
            .then(
              (id) => ({ id }),
              (error: unknown) => ({ error }),
            );
          // Nothing refused may have reached the database: the transaction still works.
          await manager.query('SELECT 1');
        });
        if ('error' in outcome!) return expectTyped(outcome.error);
        const row = await jobRow(db, outcome!.id);
        expect(row).toMatchObject({
          job_type: name,
          queue,
          trace_id: traceId ?? null,
        });
        if (runAt) expect(row!.run_at.getTime()).toBe(runAt.getTime());
      }),
      { numRuns: 150 },
    );
  });
});
