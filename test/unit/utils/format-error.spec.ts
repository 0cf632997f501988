import { describe, expect, it } from '@jest/globals';
import { describeError } from '../../../packages/nest-jobs/src/utils/describe-error.js';
import { formatJobError } from '../../../packages/nest-jobs/src/utils/format-error.js';
import { unsafeCharacter } from '../../../packages/nest-jobs/src/utils/postgres-text.js';

/** Values a handler may throw that are hard to describe. */
function hostileValues(): [string, unknown][] {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  const throwing = (name: string) => {
    const value = new Error('x');
    Object.defineProperty(value, name, {
      get() {
        throw new Error(`no ${name}`);
      },
    });
    return value;
  };
  return [
    ['a revoked Proxy', proxy],
    ['a throwing message getter', throwing('message')],
    ['a throwing name getter', throwing('name')],
    ['a throwing cause getter', throwing('cause')],
    [
      'an object whose toString throws',
      {
        toString() {
          throw new Error('no');
        },
      },
    ],
    ['a null-prototype object', Object.create(null)],
    ['null', null],
    ['undefined', undefined],
    ['a Symbol', Symbol('s')],
    ['a BigInt', 10n ** 30n],
    ['a huge string', 'y'.repeat(50_000_000)],
    ['an Error with a huge message', new Error('z'.repeat(50_000_000))],
    [
      'a stack that is not a string',
      Object.assign(new Error('s'), { stack: 42 }),
    ],
  ];
}

describe('formatJobError', () => {
  it('keeps message and stack, and the cause', () => {
    const text = formatJobError(
      new Error('outer', { cause: new TypeError('inner') }),
    );
    expect(text).toMatch(/^Error: outer\n {4}at /);
    expect(text).toContain('Caused by: TypeError: inner');
  });

  it('describes non-Error values', () => {
    expect(formatJobError('boom')).toBe("Non-Error value thrown: 'boom'");
    expect(formatJobError({ code: 42 })).toBe(
      'Non-Error value thrown: { code: 42 }',
    );
    expect(formatJobError(undefined)).toBe('Non-Error value thrown: undefined');
  });

  it('truncates long errors', () => {
    const text = formatJobError(new Error('x'.repeat(10_000)));
    expect(text.length).toBe(4_000);
    expect(text.endsWith('... [truncated]')).toBe(true);
  });

  it('never throws, even for hostile values', () => {
    const hostile = new Error('hostile');
    Object.defineProperty(hostile, 'stack', {
      get() {
        throw new Error('no stack for you');
      },
    });
    expect(formatJobError(hostile)).toBe(
      'A value was thrown that cannot be described (accessing it threw)',
    );
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(typeof formatJobError(proxy)).toBe('string');
    const cyclic = new Error('a');
    (cyclic as { cause?: unknown }).cause = cyclic;
    const text = formatJobError(cyclic); // a cause cycle ends: at most 5 causes, 4000 characters
    expect(text).toContain('Caused by: Error: a');
    expect(text.split('Caused by').length).toBeLessThanOrEqual(6);
    expect(text.length).toBeLessThanOrEqual(4_000);
  });

  it('describes every hostile value as bounded text PostgreSQL accepts', () => {
    for (const [label, value] of hostileValues()) {
      const text = formatJobError(value);
      expect([label, typeof text]).toEqual([label, 'string']);
      expect([label, text.length <= 4_000]).toEqual([label, true]);
      expect([label, unsafeCharacter(text)]).toEqual([label, null]);
    }
  });

  it('replaces U+0000 and lone surrogates, also one left by truncation', () => {
    const thrown = formatJobError('a\u0000b\ud800c');
    expect(thrown).toMatch(/^Non-Error value thrown: 'a/);
    expect(unsafeCharacter(thrown)).toBeNull();
    const message = formatJobError(new Error('nul\u0000 \udc00 here'));
    expect(message).toMatch(/^Error: nul\ufffd \ufffd here\n/);
    // A pair cut in two at the column's limit.
    const cut = formatJobError(
      Object.assign(new Error(), {
        stack: `${'a'.repeat(3_984)}\ud83d\ude00${'b'.repeat(100)}`,
      }),
    );
    expect(cut.length).toBe(4_000);
    expect(unsafeCharacter(cut)).toBeNull();
  });
});

describe('formatJobError of a cause that cannot be described', () => {
  it('keeps the error and marks only the cause', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const text = formatJobError(new Error('outer', { cause: proxy }));
    expect(text).toMatch(/^Error: outer\n/);
    expect(text).toContain(
      'Caused by: A value was thrown that cannot be described (accessing it threw)',
    );
  });
});

describe('describeError', () => {
  it('never throws and stays bounded', () => {
    for (const [label, value] of hostileValues()) {
      const text = describeError(value);
      expect([label, typeof text]).toEqual([label, 'string']);
      expect([label, text.length <= 4_100]).toEqual([label, true]);
    }
    expect(describeError(new Error('plain'))).toBe('plain');
    expect(describeError('text')).toBe('text');
  });
});
