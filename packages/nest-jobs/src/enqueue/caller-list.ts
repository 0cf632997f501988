import { InvalidJobsOptionError } from '../errors/invalid-options.error.js';
import { describeError } from '../utils/describe-error.js';

/** Which list of an `enqueueMany` call: its payloads, or its `{ name, payload }` requests. */
export type CallerListName = 'payloads' | 'jobs';

/**
 * Whether `value` is an array, true also when asking throws: only a revoked Proxy makes
 * `Array.isArray` throw, and as the first argument of `enqueueMany` it can only have been
 * meant as the list of jobs (readCallerList then reports it).
 */
export function looksLikeList(value: unknown): boolean {
  try {
    return Array.isArray(value);
  } catch {
    return true;
  }
}

/**
 * The items of a list an `enqueueMany` caller passed, each read once into an array of the
 * library's own: the list may be a Proxy whose traps throw or answer differently each time,
 * and what was checked must be what is written. Anything that cannot be read is an
 * `InvalidJobsOptionError` naming the list or the item, never a raw TypeError.
 */
export function readCallerList(
  value: unknown,
  list: CallerListName,
): unknown[] {
  let isArray: boolean;
  try {
    isArray = Array.isArray(value);
  } catch (error) {
    throw unreadable(list, value, error);
  }
  if (!isArray) {
    throw new InvalidJobsOptionError(
      list,
      value,
      list === 'payloads'
        ? 'expected an array of payloads'
        : 'expected an array of { name, payload, ...options }',
    );
  }
  const source = value as readonly unknown[];
  let index = -1;
  try {
    const length = source.length;
    const items = new Array<unknown>(length);
    for (index = 0; index < length; index += 1) items[index] = source[index];
    return items;
  } catch (error) {
    throw unreadable(index < 0 ? list : `${list}[${index}]`, value, error);
  }
}

function unreadable(
  option: string,
  value: unknown,
  error: unknown,
): InvalidJobsOptionError {
  return new InvalidJobsOptionError(
    option,
    value,
    `expected a list that can be read, but reading it threw: ${describeError(error)}`,
  );
}
