/**
 * The message of a thrown value, for log lines and error messages. Never throws: a thrown
 * value may be a revoked Proxy or have a `toString` that throws, and describing it must not
 * turn one failed job into a crashed worker.
 */
export function describeError(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return '(a thrown value that cannot be described)';
  }
}
