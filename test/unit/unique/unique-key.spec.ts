import { describe, expect, it } from '@jest/globals';
import { InvalidJobsOptionError } from '../../../packages/nest-jobs/src/errors/invalid-options.error.js';
import { optionError as fail } from '../../../packages/nest-jobs/src/utils/option-checks.js';
import {
  checkUniqueOptions,
  uniqueKeyMaker,
  uniqueKeyOf,
} from '../../../packages/nest-jobs/src/unique/unique-key.js';

const keyBy = (fields: string[], payload: unknown) =>
  uniqueKeyOf(
    checkUniqueOptions('unique', { by: fields }, fail)!,
    'job',
    payload,
    'unique',
    fail,
  );

describe('uniqueKeyOf with by', () => {
  // A key is a job's identity across versions: the one-field shortcut must write exactly
  // the text of the general form (JSON.stringify of the values), or a duplicate enqueued
  // across an upgrade would be taken for a new job.
  it.each([
    0,
    -0,
    7,
    -12.5,
    1e21,
    1e-7,
    Number.MAX_SAFE_INTEGER,
    NaN,
    Infinity,
    -Infinity,
    '',
    'acme',
    'quote " and \\ backslash',
    'line\nbreak\u0001',
    'é ü 😀',
    '\u2028',
  ])('one field of %p: the text JSON.stringify([value]) gives', (value) => {
    expect(keyBy(['v'], { v: value })).toBe(
      `3:job|f:${JSON.stringify([value])}`,
    );
  });

  it('one field longer than a hash once written as JSON is hashed, as before', () => {
    expect(keyBy(['v'], { v: 'x'.repeat(39) })).toBe(
      `3:job|f:["${'x'.repeat(39)}"]`,
    );
    expect(keyBy(['v'], { v: 'x'.repeat(40) })).toMatch(
      /^3:job\|f:[A-Za-z0-9_-]{43}$/,
    );
  });

  it('other values of one field, and several fields, keep the general form', () => {
    expect(keyBy(['v'], { v: true })).toBe('3:job|f:[true]');
    expect(keyBy(['v'], {})).toBe('3:job|f:[null]');
    expect(keyBy(['v'], { v: { b: 1, a: 2 } })).toBe('3:job|f:[{"a":2,"b":1}]');
    expect(keyBy(['a', 'b'], { a: 1, b: 'x' })).toBe('3:job|f:[1,"x"]');
  });

  it('a field whose reading throws is refused with InvalidJobsOptionError naming unique.by', () => {
    const payload = {
      get v(): number {
        throw new Error('no');
      },
    };
    expect(() => keyBy(['v'], payload)).toThrow(InvalidJobsOptionError);
    expect(() => keyBy(['v'], payload)).toThrow(/unique\.by/);
    expect(() => keyBy(['v'], { v: 10n })).toThrow(/unique\.by/);
  });
});

describe('uniqueKeyMaker', () => {
  const spec = (options: object) =>
    checkUniqueOptions('unique', options, fail)!;

  it('writes the parts one call shares once: explicit key, one per job name, the period bucket', () => {
    const now = 1_700_000_000_000;
    const keyed = uniqueKeyMaker(
      spec({ key: 'charge:7' }),
      'job',
      'unique',
      fail,
      now,
    );
    expect(keyed({ a: 1 })).toBe('3:job|k:charge:7');
    expect(keyed({ a: 2 })).toBe('3:job|k:charge:7');
    expect(uniqueKeyMaker(spec({}), 'job', 'unique', fail, now)({})).toBe(
      '3:job|t',
    );
    const periodic = uniqueKeyMaker(
      spec({ by: ['id'], periodMs: 60_000 }),
      'job',
      'unique',
      fail,
      now,
    );
    expect(periodic({ id: 5 })).toBe(`3:job|f:[5]@${Math.floor(now / 60_000)}`);
    expect(periodic({ id: 5 })).toBe(
      uniqueKeyOf(
        spec({ by: ['id'], periodMs: 60_000 }),
        'job',
        { id: 5 },
        'unique',
        fail,
        now,
      ),
    );
  });
});
