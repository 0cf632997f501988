import { COLUMN_LIMITS } from '../jobs.constants.js';
import { InvalidJobsOptionError } from '../errors/invalid-options.error.js';
import { unsafeCharacter } from './postgres-text.js';

/**
 * Small checks shared by module, `@Job()` and enqueue option validation. Each throws an
 * error built by `fail`, so callers decide which error type names the culprit.
 */
export type OptionFailure = (
  option: string,
  value: unknown,
  expectation: string,
) => Error;

export const optionError: OptionFailure = (option, value, expectation) =>
  new InvalidJobsOptionError(option, value, expectation);

export function checkPlainObject(
  option: string,
  value: unknown,
  allowedKeys: readonly string[],
  fail: OptionFailure = optionError,
): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw fail(option, value, 'expected an object');
  }
  for (const key of Object.keys(value)) {
    if (!allowedKeys.includes(key)) {
      const path = option ? `${option}.${key}` : key;
      throw fail(
        path,
        (value as Record<string, unknown>)[key],
        `unknown option (allowed: ${allowedKeys.join(', ')})`,
      );
    }
  }
  return value as Record<string, unknown>;
}

export function checkInteger(
  option: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  fail: OptionFailure = optionError,
): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < min ||
    value > max
  ) {
    const range =
      max === Number.MAX_SAFE_INTEGER
        ? `>= ${min}`
        : `between ${min} and ${max}`;
    throw fail(option, value, `expected an integer ${range}`);
  }
  return value;
}

export function checkBoolean(
  option: string,
  value: unknown,
  fail: OptionFailure = optionError,
): boolean {
  if (typeof value !== 'boolean')
    throw fail(option, value, 'expected true or false');
  return value;
}

/**
 * Queue and job names: non-empty, at most 255 characters, no surrounding white space, and
 * nothing PostgreSQL refuses in text (U+0000, lone surrogates).
 */
export function checkName(
  option: string,
  value: unknown,
  fail: OptionFailure = optionError,
): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw fail(option, value, 'expected a non-empty string');
  }
  if (value.length > COLUMN_LIMITS.nameLength) {
    throw fail(
      option,
      value,
      `expected at most ${COLUMN_LIMITS.nameLength} characters (has ${value.length})`,
    );
  }
  if (value.trim() !== value) {
    throw fail(option, value, 'expected no leading or trailing white space');
  }
  const problem = unsafeCharacter(value);
  if (problem !== null) {
    throw fail(
      option,
      value,
      `expected text PostgreSQL can store (contains ${problem})`,
    );
  }
  return value;
}

/** SQL identifiers we quote ourselves: letters, digits and underscores, at most 63 bytes. */
export function checkIdentifier(
  option: string,
  value: unknown,
  fail: OptionFailure = optionError,
): string {
  if (
    typeof value !== 'string' ||
    !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(value)
  ) {
    throw fail(
      option,
      value,
      'expected a SQL identifier (letters, digits, _; at most 63 characters)',
    );
  }
  return value;
}

export function checkFunction<T>(
  option: string,
  value: unknown,
  fail: OptionFailure = optionError,
): T {
  if (typeof value !== 'function')
    throw fail(option, value, 'expected a function');
  return value as T;
}

/**
 * The keys of an options interface, listed once and checked by the compiler both ways: a
 * key missing here, or one the interface does not have, does not compile. Unknown-option
 * errors then name exactly what the interface documents.
 */
export function optionKeys<T>(keys: {
  readonly [K in keyof Required<T>]: true;
}): readonly (keyof T & string)[] {
  return Object.keys(keys) as (keyof T & string)[];
}
