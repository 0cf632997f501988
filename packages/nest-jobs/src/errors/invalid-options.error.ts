import { JobsError } from './jobs.error.js';

/** A module, `@Job()` or enqueue option with a bad value; `option` is its dotted path. */
export class InvalidJobsOptionError extends JobsError {
  constructor(
    readonly option: string,
    readonly value: unknown,
    expectation: string,
  ) {
    super(
      `Invalid nest-jobs option "${option}": ${expectation}, got ${describeValue(value)}`,
    );
  }
}

/**
 * Renders a bad value for an error message without dumping large objects. Never throws:
 * the value may be a revoked Proxy, whose `instanceof` and `Array.isArray` throw.
 */
export function describeValue(value: unknown): string {
  try {
    return describeValueUnsafe(value);
  } catch {
    return 'a value that cannot be read (a revoked Proxy?)';
  }
}

function describeValueUnsafe(value: unknown): string {
  if (typeof value === 'string') {
    return JSON.stringify(
      value.length > 80 ? `${value.slice(0, 80)}...` : value,
    );
  }
  if (
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value == null
  ) {
    return String(value);
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return value.toString();
  if (value instanceof Date)
    return `Date(${isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString()})`;
  return Array.isArray(value) ? 'an array' : 'an object';
}
