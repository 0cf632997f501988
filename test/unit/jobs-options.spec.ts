import { describe, expect, it } from '@jest/globals';
import { InvalidJobsOptionError } from '../../packages/nest-jobs/src/errors/invalid-options.error.js';
import { resolveJobsOptions } from '../../packages/nest-jobs/src/jobs.options.js';

describe('resolveJobsOptions', () => {
  it('applies the defaults when nothing is given', () => {
    const resolved = resolveJobsOptions(undefined);
    expect(resolved).toMatchObject({
      schema: 'public',
      table: 'nest_jobs',
      runMigrations: false,
      validateJobNames: true,
      maxPayloadBytes: 1024 * 1024,
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
        leaseMs: 60_000,
        heartbeatIntervalMs: 15_000,
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
      leaseMs: 3000,
      heartbeatIntervalMs: 1000,
      queues: ['a', 'b'],
    });
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
      'heartbeat >= lease',
      { worker: { leaseMs: 2000, heartbeatIntervalMs: 2000 } },
      '"worker.heartbeatIntervalMs": expected less than worker.leaseMs (2000)',
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
