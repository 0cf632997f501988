import type { OptionFailure } from '../utils/option-checks.js';
import type { UniqueState } from './unique-options.interface.js';

/**
 * One bit per state, stored in `unique_states`. The unique index's predicate maps the row's
 * status to the same bits (sql/unique-index.ts), and already maps `cancelled` to 16, so a
 * new final state only needs its line here. A bit never changes meaning: rows keep theirs.
 */
export const UNIQUE_STATE_BITS: Readonly<Record<UniqueState, number>> = {
  pending: 1,
  running: 2,
  completed: 4,
  failed: 8,
  cancelled: 16,
};

/** The default set: a duplicate is refused while the job waits or runs. */
export const DEFAULT_UNIQUE_STATES =
  UNIQUE_STATE_BITS.pending | UNIQUE_STATE_BITS.running;

const FINAL_BITS = ~(UNIQUE_STATE_BITS.pending | UNIQUE_STATE_BITS.running);

/** Checks a `states` list and returns its bits. */
export function checkUniqueStates(
  option: string,
  value: unknown,
  fail: OptionFailure,
): number {
  if (!Array.isArray(value) || value.length === 0)
    throw fail(option, value, 'expected a non-empty array of job states');
  let bits = 0;
  for (const state of value as unknown[]) {
    const bit =
      typeof state === 'string' && Object.hasOwn(UNIQUE_STATE_BITS, state)
        ? UNIQUE_STATE_BITS[state as UniqueState]
        : undefined;
    if (bit === undefined)
      throw fail(
        option,
        value,
        `expected states among ${Object.keys(UNIQUE_STATE_BITS).join(', ')} (${JSON.stringify(state) ?? String(state)} is not one)`,
      );
    bits |= bit;
  }
  if ((bits & UNIQUE_STATE_BITS.pending) === 0)
    throw fail(
      option,
      value,
      'expected states that include "pending" (a new job is pending: without it the key would not be checked at enqueue)',
    );
  if ((bits & FINAL_BITS) !== 0 && (bits & UNIQUE_STATE_BITS.running) === 0)
    throw fail(
      option,
      value,
      'expected "running" among states that include a final state (a job ends through running: the hole would let a finishing job collide with a newer one)',
    );
  return bits;
}
