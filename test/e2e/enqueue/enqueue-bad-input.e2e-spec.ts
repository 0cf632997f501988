import { beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import {
  EnqueueFailedError,
  InvalidJobsOptionError,
  InvalidPayloadError,
  Job,
  JobDefinitionError,
  JobsModule,
  JobsService,
  UnknownJobError,
  type EnqueueOptions,
} from 'nest-jobs';
import { DataSource } from 'typeorm';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';
import { insertJobRow, jobRows } from '../../support/jobs-table.js';

@Injectable()
class Billing {
  @Job({ name: 'billing.charge', validate: (p) => assertCharge(p) })
  charge(_payload: { cents: number }) {}

  notAJob(_payload: unknown) {}
}

function assertCharge(payload: unknown): void {
  const cents = (payload as { cents?: unknown } | null)?.cents;
  if (!Number.isInteger(cents) || (cents as number) <= 0)
    throw new Error('cents must be a positive integer');
}

const circular: Record<string, unknown> = { a: 1 };
circular.self = circular;

describe('JobsService bad input', () => {
  const suite = useJobsSuite('bad_input');
  const { db } = suite;
  let app: SuiteApp;
  let jobs: JobsService;

  beforeAll(async () => {
    app = await suite.app({
      providers: [Billing],
      jobsModule: JobsModule.forRoot({
        runMigrations: true,
        maxPayloadBytes: 100,
        worker: { enabled: false },
      }),
    });
    jobs = app.get(JobsService);
  });

  async function expectRejected(
    call: () => Promise<unknown>,
    type: new (...args: never[]) => Error,
    message: string,
  ) {
    const before = (await jobRows(db)).length;
    const error = await call().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toBe(message);
    expect((await jobRows(db)).length).toBe(before); // nothing was written
  }

  const badPayloads: Array<[string, unknown, string]> = [
    ['circular', circular, 'payload.self is a circular reference'],
    [
      'BigInt',
      { cents: 10n },
      'payload.cents is a BigInt, which JSON cannot represent (convert it to a string)',
    ],
    [
      'function',
      { cents: 1, cb: () => 0 },
      'payload.cb is a function, which JSON cannot represent',
    ],
    [
      'symbol',
      { cents: 1, s: Symbol('x') },
      'payload.s is a symbol, which JSON cannot represent',
    ],
    [
      'undefined',
      undefined,
      'payload is undefined, which JSON cannot represent (use null, or omit the property)',
    ],
    [
      'oversized',
      { cents: 1, note: 'x'.repeat(200) },
      'payload is 221 bytes of JSON, over the limit of 100 (option maxPayloadBytes)',
    ],
  ];
  it.each(badPayloads)(
    'rejects a %s payload before writing',
    async (_kind, payload, message) => {
      await expectRejected(
        () => jobs.enqueue('billing.charge', payload),
        InvalidPayloadError,
        `Invalid payload for job "billing.charge": ${message}`,
      );
    },
  );

  it("rejects a payload the job's validate() refuses", async () => {
    await expectRejected(
      () => jobs.enqueue(Billing, 'charge', { cents: -5 }),
      InvalidPayloadError,
      `Invalid payload for job "billing.charge": payload was rejected by the job's validate(): cents must be a positive integer`,
    );
  });

  it('rejects one bad payload of a bulk enqueue, writing none of the batch', async () => {
    await expectRejected(
      () =>
        jobs.enqueueMany(Billing, 'charge', [
          { cents: 1 },
          { cents: 2, extra: 3n } as never,
        ]),
      InvalidPayloadError,
      'Invalid payload for job "billing.charge": payloads[1].extra is a BigInt, which JSON cannot represent (convert it to a string)',
    );
  });

  it('checks the options of a bulk enqueue once, even when it carries no payload', async () => {
    await expectRejected(
      () => jobs.enqueueMany(Billing, 'charge', [], { delay: -5 }),
      InvalidJobsOptionError,
      'Invalid nest-jobs option "delay": expected an integer between 0 and 3153600000000, got -5',
    );
  });

  it('rejects an unknown job name, listing the known ones', async () => {
    await expectRejected(
      () => jobs.enqueue('billing.refund', { cents: 1 }),
      UnknownJobError,
      'Unknown job "billing.refund": no @Job handler has this name (known: billing.charge)',
    );
  });

  it('rejects a method that is not a @Job handler', async () => {
    await expectRejected(
      () => jobs.enqueue(Billing, 'notAJob', {}),
      JobDefinitionError,
      'Invalid @Job handler Billing#notAJob: this method has no @Job() decorator',
    );
  });

  const badOptions: Array<
    [string, EnqueueOptions | Record<string, unknown>, string]
  > = [
    [
      'invalid date',
      { runAt: new Date('not a date') },
      '"runAt": expected a valid Date, got Date(Invalid Date)',
    ],
    [
      'date string',
      { runAt: '2030-01-01' },
      '"runAt": expected a valid Date, got "2030-01-01"',
    ],
    [
      'negative delay',
      { delay: -1 },
      '"delay": expected an integer between 0 and 3153600000000, got -1',
    ],
    [
      'NaN delay',
      { delay: NaN },
      '"delay": expected an integer between 0 and 3153600000000, got NaN',
    ],
    [
      'runAt and delay',
      { runAt: new Date(), delay: 5 },
      '"delay": cannot be combined with runAt; give one of them, got 5',
    ],
    [
      'empty queue',
      { queue: '' },
      '"queue": expected a non-empty string, got ""',
    ],
    [
      'queue over 255',
      { queue: 'q'.repeat(256) },
      '"queue": expected at most 255 characters (has 256), got "' +
        'q'.repeat(80) +
        '..."',
    ],
    [
      'negative retries',
      { maxRetries: -1 },
      '"maxRetries": expected an integer between 0 and 1000000, or Infinity (retry for ever), got -1',
    ],
    [
      'bad retry policy',
      { retry: { type: 'linear' } },
      '"retry.type": expected one of exponential, fixed, none, got "linear"',
    ],
    [
      'long trace id',
      { traceId: 't'.repeat(65) },
      '"traceId": expected a non-empty string of at most 64 characters, got "' +
        't'.repeat(65) +
        '"',
    ],
    [
      'unknown option',
      { colour: 1 },
      '"colour": unknown option (allowed: manager, runAt, delay, queue, maxRetries, retry, traceId, unique, priority, orderingKey, concurrencyKey, reserve), got 1',
    ],
    [
      'manager that is not one',
      { manager: { query: 1 } },
      '"manager": expected a TypeORM EntityManager, got an object',
    ],
  ];
  it.each(badOptions)(
    'rejects an option: %s',
    async (_kind, options, message) => {
      await expectRejected(
        () =>
          jobs.enqueue(
            'billing.charge',
            { cents: 1 },
            options as EnqueueOptions,
          ),
        InvalidJobsOptionError,
        `Invalid nest-jobs option ${message}`,
      );
    },
  );

  it('names the item of a mixed bulk enqueue that is wrong', async () => {
    await expectRejected(
      () =>
        jobs.enqueueMany([
          { name: 'billing.charge', payload: { cents: 1 } },
          { name: 'billing.charge', payload: { cents: 1 }, delay: -3 },
        ]),
      InvalidJobsOptionError,
      'Invalid nest-jobs option "jobs[1].delay": expected an integer between 0 and 3153600000000, got -3',
    );
    await expectRejected(
      () => jobs.enqueueMany([{ name: '', payload: {} }]),
      InvalidJobsOptionError,
      'Invalid nest-jobs option "jobs[0].name": expected a non-empty string, got ""',
    );
  });

  it('rejects an EntityManager of another DataSource', async () => {
    const other = await new DataSource({
      type: 'postgres',
      url: db.url,
    }).initialize();
    try {
      await expectRejected(
        () =>
          other.transaction((manager) =>
            jobs.enqueue('billing.charge', { cents: 1 }, { manager }),
          ),
        InvalidJobsOptionError,
        'Invalid nest-jobs option "manager": expected an EntityManager of the DataSource JobsModule uses (this one belongs to another DataSource), got an object',
      );
    } finally {
      await other.destroy();
    }
  });

  it('surfaces a database error with the job name, never swallowing it', async () => {
    const dataSource = app.get(DataSource);
    const error = await dataSource
      .transaction(async (manager) => {
        await manager.query('SELECT 1/0').catch(() => undefined); // the transaction is now aborted
        await jobs.enqueue('billing.charge', { cents: 1 }, { manager });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnqueueFailedError);
    expect((error as Error).message).toMatch(
      /^Failed to enqueue job "billing.charge": current transaction is aborted/,
    );
    expect((error as Error).cause).toBeInstanceOf(Error);

    await db.query('ALTER TABLE nest_jobs RENAME TO nest_jobs_away');
    try {
      const pooled = await jobs
        .enqueue('billing.charge', { cents: 1 })
        .catch((e: unknown) => e);
      expect(pooled).toBeInstanceOf(EnqueueFailedError);
      expect((pooled as Error).message).toBe(
        'Failed to enqueue job "billing.charge": relation "public.nest_jobs" does not exist',
      );
    } finally {
      await db.query('ALTER TABLE nest_jobs_away RENAME TO nest_jobs');
    }
    // and the pool's prepared statements still work once the table is back
    expect(await jobs.enqueue('billing.charge', { cents: 1 })).toEqual(
      expect.any(String),
    );
  });
});

describe('JobsService with validateJobNames: false', () => {
  const suite = useJobsSuite('producer');
  const { db } = suite;
  let app: SuiteApp;

  beforeAll(async () => {
    app = await suite.app({
      jobs: { validateJobNames: false, worker: { enabled: false } },
    });
  });

  it('accepts names handled by another service', async () => {
    const id = await app
      .get(JobsService)
      .enqueue('handled.elsewhere', { x: 1 }, { queue: 'remote' });
    expect(await jobRows(db)).toEqual([
      expect.objectContaining({
        id,
        job_type: 'handled.elsewhere',
        queue: 'remote',
      }),
    ]);
  });

  it('stores a job name that looks like SQL verbatim, executing nothing', async () => {
    const name = `x'); DELETE FROM nest_jobs; SELECT ('`;
    const id = await app.get(JobsService).enqueue(name, { ok: 1 });
    expect(await jobRows(db, 'id = $1', [id])).toEqual([
      expect.objectContaining({ job_type: name }),
    ]);
    expect((await jobRows(db)).length).toBe(2);
  });

  it('the table refuses rows written by hand with a status outside the enum or malformed JSON', async () => {
    await expect(
      insertJobRow(db, { job_type: 'by.hand', status: 'done' as never }),
    ).rejects.toThrow('violates check constraint "nest_jobs_status_check"');
    await expect(
      insertJobRow(db, { job_type: 'by.hand', status: 'PENDING' as never }),
    ).rejects.toThrow('violates check constraint "nest_jobs_status_check"');
    // Written by hand: insertJobRow sends every payload as valid JSON, and this test is
    // about what the column does with text that is not.
    await expect(
      db.query(`INSERT INTO nest_jobs (job_type, payload) VALUES ($1, $2)`, [
        'by.hand',
        '{"unterminated": ',
      ]),
    ).rejects.toThrow('invalid input syntax for type json');
    await expect(
      insertJobRow(db, { job_type: 'by.hand', max_retries: -1 }),
    ).rejects.toThrow(
      'violates check constraint "nest_jobs_max_retries_check"',
    );
    expect((await jobRows(db, "job_type = 'by.hand'")).length).toBe(0);
  });
});
