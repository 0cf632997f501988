import { describe, expect, it } from '@jest/globals';
import { formatJobError } from '../../../packages/nest-jobs/src/utils/format-error.js';

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
});
