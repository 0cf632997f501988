/**
 * Checks on values the library did not make (what a handler threw or returned, what a
 * listener or a validator returned): such a value may be a revoked Proxy or have throwing
 * getters, so each check says whether it can throw.
 */

/** Whether `value` has a callable `then`. May throw: reading `then` runs a getter or a Proxy trap. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/** `value instanceof type`, false where `instanceof` throws (a revoked Proxy, a throwing trap). */
export function isInstanceOf(
  value: unknown,
  type: abstract new (...args: never[]) => unknown,
): boolean {
  try {
    return value instanceof type;
  } catch {
    return false;
  }
}
