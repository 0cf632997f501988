import { describe, expect, it } from '@jest/globals';
import { InvalidJobsOptionError } from '../../packages/nest-jobs/src/errors/invalid-options.error.js';
import { resolveJobsOptions } from '../../packages/nest-jobs/src/jobs.options.js';
import {
  describeJobsTable,
  MAX_IDENTIFIER_BYTES,
  MAX_TABLE_NAME_BYTES,
  TABLE_NAME_SUFFIXES,
} from '../../packages/nest-jobs/src/sql/jobs-table.js';
import {
  createJobsMigrations,
  MIGRATION_DEFINITIONS,
} from '../../packages/nest-jobs/src/sql/migrations/jobs.migrations.js';
import { requiredTablePrivileges } from '../../packages/nest-jobs/src/sql/migrations/table-access.js';

describe('resolveJobsOptions', () => {
  it('applies the defaults when nothing is given', () => {
    const resolved = resolveJobsOptions(undefined);
    expect(resolved).toMatchObject({
      schema: 'public',
      table: 'nest_jobs',
      runMigrations: false,
      validateJobNames: true,
      maxPayloadBytes: 1024 * 1024,
      enqueueTimeoutMs: 15_000,
      retention: {
        completedMs: 7 * 24 * 3600 * 1000,
        failedMs: 30 * 24 * 3600 * 1000,
      },
      retry: {
        type: 'exponential',
        baseMs: 1000,
        capMs: 3_600_000,
        jitter: 'upper-half',
      },
      worker: {
        enabled: true,
        queues: null,
        concurrency: 20,
        batchSize: 20,
        claimAhead: null,
        leaseMs: 60_000,
        heartbeatIntervalMs: 15_000,
        queryTimeoutMs: 30_000,
        connections: 3,
      },
    });
  });

  it('keeps given values and derives batch size and heartbeat from them', () => {
    const resolved = resolveJobsOptions({
      worker: { concurrency: 7, leaseMs: 3000, queues: ['a', 'b', 'a'] },
    });
    expect(resolved.worker).toMatchObject({
      concurrency: 7,
      batchSize: 7,
      claimAhead: null,
      leaseMs: 3000,
      heartbeatIntervalMs: 1000,
      queryTimeoutMs: 1500,
      queues: ['a', 'b'],
    });
  });

  it('claims ahead by the pace of the slots by default (null), and not at all with claimAhead: 0', () => {
    expect(
      resolveJobsOptions({ worker: { concurrency: 10, batchSize: 4 } }).worker
        .claimAhead,
    ).toBeNull();
    expect(
      resolveJobsOptions({ worker: { claimAhead: 0 } }).worker.claimAhead,
    ).toBe(0);
  });

  it('accepts retention: false as a whole: every finished job is kept', () => {
    expect(resolveJobsOptions({ retention: false }).retention).toEqual({
      completedMs: false,
      failedMs: false,
      cancelledMs: false,
    });
  });

  it('accepts the longest table name whose derived names fit 63 bytes, and PG_ in another case', () => {
    expect(resolveJobsOptions({ table: 'j'.repeat(45) }).table).toBe(
      'j'.repeat(45),
    );
    expect(resolveJobsOptions({ schema: 'PG_jobs' }).schema).toBe('PG_jobs');
  });

  it('every quoted name in the DDL of every migration fits 63 bytes, for the longest table name', () => {
    const table = 't'.repeat(MAX_TABLE_NAME_BYTES);
    const jobs = describeJobsTable('s'.repeat(63), table);
    const names = MIGRATION_DEFINITIONS.flatMap((migration) => [
      ...migration.up(jobs),
      ...migration.down(jobs),
    ]).flatMap((ddl) => [...ddl.matchAll(/"([^"]+)"/g)].map((m) => m[1]!));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_IDENTIFIER_BYTES);
      // A name derived from the table uses a suffix the option check knows of.
      if (name.startsWith(table) && name !== table)
        expect(TABLE_NAME_SUFFIXES).toContain(name.slice(table.length));
    }
  });

  it('createJobsMigrations applies the same checks as the module options', () => {
    expect(() => createJobsMigrations({ schema: 'pg_x' })).toThrow(
      InvalidJobsOptionError,
    );
    expect(() => createJobsMigrations({ table: 'j'.repeat(46) })).toThrow(
      '"table": expected at most 45 bytes',
    );
  });

  it('derives the table privileges start-up checks from the options that use them', () => {
    const needs = (options: Parameters<typeof resolveJobsOptions>[0]) =>
      requiredTablePrivileges(resolveJobsOptions(options));
    expect(needs({})).toEqual(['SELECT', 'INSERT', 'UPDATE', 'DELETE']);
    expect(needs({ retention: false })).toEqual(['SELECT', 'INSERT', 'UPDATE']);
    // completedMs: 0 deletes at completion, so DELETE is still needed.
    expect(needs({ retention: { completedMs: 0, failedMs: false } })).toContain(
      'DELETE',
    );
    expect(needs({ worker: { enabled: false } })).toEqual(['SELECT', 'INSERT']);
  });

  const bad: Array<[string, unknown, string]> = [
    [
      'unknown key',
      { concurrency: 3 },
      'Invalid nest-jobs option "concurrency": unknown option',
    ],
    [
      'unknown worker key',
      { worker: { threads: 2 } },
      'Invalid nest-jobs option "worker.threads": unknown option',
    ],
    [
      'unknown worker mode',
      { worker: { mode: 'sometimes' } },
      `"worker.mode": expected 'auto' or 'manual', got "sometimes"`,
    ],
    [
      'zero concurrency',
      { worker: { concurrency: 0 } },
      '"worker.concurrency": expected an integer between 1 and 10000, got 0',
    ],
    [
      'no worker connections',
      { worker: { connections: 0 } },
      '"worker.connections": expected an integer between 1 and 100, got 0',
    ],
    [
      'NaN concurrency',
      { worker: { concurrency: NaN } },
      '"worker.concurrency": expected an integer between 1 and 10000, got NaN',
    ],
    [
      'fractional poll',
      { worker: { pollIntervalMs: 1.5 } },
      '"worker.pollIntervalMs": expected an integer',
    ],
    [
      'empty queue name',
      { worker: { queues: [''] } },
      '"worker.queues[0]": expected a non-empty string, got ""',
    ],
    [
      'long queue name',
      { worker: { queues: ['q'.repeat(256)] } },
      '"worker.queues[0]": expected at most 255 characters (has 256)',
    ],
    [
      'empty queue list',
      { worker: { queues: [] } },
      '"worker.queues": expected a non-empty array of queue names',
    ],
    [
      'queue cap over concurrency',
      { worker: { concurrency: 2, queueConcurrency: { a: 3 } } },
      '"worker.queueConcurrency.a": expected an integer between 1 and 2, got 3',
    ],
    [
      'negative claim ahead',
      { worker: { claimAhead: -1 } },
      '"worker.claimAhead": expected an integer between 0 and 10000, got -1',
    ],
    [
      'fractional claim ahead',
      { worker: { claimAhead: 1.5 } },
      '"worker.claimAhead": expected an integer between 0 and 10000, got 1.5',
    ],
    [
      'heartbeat >= lease',
      { worker: { leaseMs: 2000, heartbeatIntervalMs: 2000 } },
      '"worker.heartbeatIntervalMs": expected less than worker.leaseMs (2000)',
    ],
    [
      'query timeout >= lease',
      { worker: { leaseMs: 2000, queryTimeoutMs: 2000 } },
      '"worker.queryTimeoutMs": expected less than worker.leaseMs (2000)',
    ],
    [
      'query timeout too short',
      { worker: { queryTimeoutMs: 10 } },
      '"worker.queryTimeoutMs": expected an integer between 100 and',
    ],
    [
      'a transaction bound of zero',
      { worker: { transactionTimeoutMs: 0 } },
      '"worker.transactionTimeoutMs": expected an integer between 1 and',
    ],
    [
      'a transaction bound that is not a number',
      { worker: { transactionTimeoutMs: '5s' } },
      '"worker.transactionTimeoutMs": expected an integer between 1 and',
    ],
    [
      'enqueue timeout too short',
      { enqueueTimeoutMs: 0 },
      '"enqueueTimeoutMs": expected an integer between 100 and',
    ],
    [
      'negative retry base',
      { retry: { baseMs: -1 } },
      '"retry.baseMs": expected an integer between 0 and',
    ],
    [
      'negative retention',
      { retention: { completedMs: -1 } },
      '"retention.completedMs": expected an integer between 0 and',
    ],
    [
      'retention true',
      { retention: { failedMs: true } },
      '"retention.failedMs": expected an integer between 0 and',
    ],
    [
      'unknown retry type',
      { retry: { type: 'linear' } },
      '"retry.type": expected one of exponential, fixed, none, got "linear"',
    ],
    [
      'bad table name',
      { table: 'jobs; drop table users' },
      '"table": expected a SQL identifier',
    ],
    ['bad schema', { schema: '1abc' }, '"schema": expected a SQL identifier'],
    [
      'a schema PostgreSQL reserves (pg_)',
      { schema: 'pg_jobs' },
      '"schema": expected a schema PostgreSQL does not reserve',
    ],
    [
      'the system catalog schema',
      { schema: 'pg_catalog' },
      '"schema": expected a schema PostgreSQL does not reserve',
    ],
    [
      'information_schema',
      { schema: 'information_schema' },
      '"schema": expected a schema PostgreSQL does not reserve',
    ],
    [
      'a table whose derived index name would pass 63 bytes',
      { table: 'j'.repeat(46) },
      `"table": expected at most 45 bytes, so that the derived name "${'j'.repeat(46)}_max_retries_check" fits`,
    ],
    [
      'retention true as a whole',
      { retention: true },
      'Invalid nest-jobs option "retention"',
    ],
    [
      'non-boolean',
      { runMigrations: 'yes' },
      '"runMigrations": expected true or false, got "yes"',
    ],
    [
      'not a DataSource',
      { dataSource: { url: 'x' } },
      '"dataSource": expected a TypeORM DataSource instance, got an object',
    ],
    [
      'payload limit',
      { maxPayloadBytes: 0 },
      '"maxPayloadBytes": expected an integer between 2 and',
    ],
    [
      'payload limit over what one jsonb value is sure to hold',
      { maxPayloadBytes: 32 * 1024 * 1024 + 1 },
      '"maxPayloadBytes": expected an integer between 2 and 33554432',
    ],
  ];
  it.each(bad)(
    'rejects %s with an error naming the option and value',
    (_kind, options, message) => {
      expect(() => resolveJobsOptions(options as never)).toThrow(
        InvalidJobsOptionError,
      );
      expect(() => resolveJobsOptions(options as never)).toThrow(message);
    },
  );
});
