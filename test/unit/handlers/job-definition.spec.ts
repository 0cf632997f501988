import { describe, expect, it } from '@jest/globals';
import {
  getJobMetadata,
  Job,
} from '../../../packages/nest-jobs/src/handlers/job.decorator.js';
import { JobDefinitionError } from '../../../packages/nest-jobs/src/errors/job-definition.error.js';
import { defineJob } from '../../../packages/nest-jobs/src/handlers/job-definition.js';
import type { JobOptions } from '../../../packages/nest-jobs/src/handlers/job-options.interface.js';

function definitionOf(options: JobOptions) {
  class Reports {
    @Job(options)
    build(_payload: { id: number }) {}
  }
  return defineJob(getJobMetadata(Reports.prototype.build)!);
}

describe('@Job options', () => {
  it('defaults: name Class.method, queue default, 3 retries', () => {
    expect(definitionOf({})).toMatchObject({
      name: 'Reports.build',
      handlerName: 'Reports#build',
      queue: 'default',
      maxRetries: 3,
      retry: undefined,
      timeoutMs: undefined,
    });
  });

  it('keeps explicit options', () => {
    expect(
      definitionOf({
        name: 'reports.build',
        queue: 'reports',
        maxRetries: 0,
        timeoutMs: 50,
        retry: { type: 'fixed' },
      }),
    ).toMatchObject({
      name: 'reports.build',
      queue: 'reports',
      maxRetries: 0,
      timeoutMs: 50,
      retry: { type: 'fixed' },
    });
  });

  const bad: Array<[string, unknown, string]> = [
    [
      'a unique key that is not a string',
      { unique: { key: 42 } },
      'option "unique.key" expected a non-empty string of at most 255 characters, got 42',
    ],
    [
      'unique states without pending',
      { unique: { states: ['running'] } },
      'option "unique.states" expected states that include "pending"',
    ],
    [
      'a priority out of range',
      { priority: 40_000 },
      'option "priority" expected an integer between -32768 and 32767, got 40000',
    ],
    [
      'minus infinite retries',
      { maxRetries: -Infinity },
      'option "maxRetries" expected an integer between 0 and 1000000, or Infinity (retry for ever), got -Infinity',
    ],
    [
      'negative retries',
      { maxRetries: -1 },
      'option "maxRetries" expected an integer between 0 and 1000000, or Infinity (retry for ever), got -1',
    ],
    [
      'NaN retries',
      { maxRetries: NaN },
      'option "maxRetries" expected an integer between 0 and 1000000, or Infinity (retry for ever), got NaN',
    ],
    [
      'empty queue',
      { queue: '' },
      'option "queue" expected a non-empty string, got ""',
    ],
    [
      'long name',
      { name: 'n'.repeat(300) },
      'option "name" expected at most 255 characters (has 300)',
    ],
    [
      'zero timeout',
      { timeoutMs: 0 },
      'option "timeoutMs" expected an integer between 1 and',
    ],
    ['unknown option', { retries: 2 }, 'option "retries" unknown option'],
    [
      'bad retry type',
      { retry: { type: 'sometimes' } },
      'option "retry.type" expected one of exponential, fixed, none',
    ],
    [
      'validate not a function',
      { validate: 'yes' },
      'option "validate" expected a function, got "yes"',
    ],
    [
      'transactional not a boolean',
      { transactional: 'yes' },
      'option "transactional" expected true or false, got "yes"',
    ],
    [
      'a transaction bound of zero',
      { transactionTimeoutMs: 0 },
      'option "transactionTimeoutMs" expected an integer between 1 and',
    ],
    [
      'checkpointKeepsRetries not a boolean',
      { checkpointKeepsRetries: 1 },
      'option "checkpointKeepsRetries" expected true or false, got 1',
    ],
  ];
  it('defaults: not transactional, the worker transaction bound, checkpoints count', () => {
    expect(definitionOf({})).toMatchObject({
      transactional: false,
      transactionTimeoutMs: undefined,
      checkpointKeepsRetries: false,
    });
    expect(
      definitionOf({
        transactional: true,
        transactionTimeoutMs: 500,
        checkpointKeepsRetries: true,
      }),
    ).toMatchObject({
      transactional: true,
      transactionTimeoutMs: 500,
      checkpointKeepsRetries: true,
    });
  });
  it('accepts maxRetries: Infinity, a priority and unique options', () => {
    expect(
      definitionOf({
        maxRetries: Infinity,
        priority: -3,
        unique: { by: ['id'], periodMs: 1000 },
      }),
    ).toMatchObject({
      maxRetries: Infinity,
      priority: -3,
      unique: { key: null, by: ['id'], periodMs: 1000, states: 3 },
    });
  });

  it.each(bad)('rejects %s, naming Class#method', (_kind, options, message) => {
    expect(() => definitionOf(options as JobOptions)).toThrow(
      JobDefinitionError,
    );
    expect(() => definitionOf(options as JobOptions)).toThrow(
      `Invalid @Job handler Reports#build: ${message}`,
    );
  });
});
