import { COLUMN_LIMITS } from '../jobs.constants.js';

const UNDESCRIBABLE = '(a thrown value that cannot be described)';

/**
 * The message of a thrown value, for log lines and error messages, at most
 * `COLUMN_LIMITS.errorLength` characters. Never throws: a thrown value may be a revoked
 * Proxy, have a `message` or `toString` that throws, or be a Symbol or a null-prototype
 * object, and describing it must not turn one failed job into a crashed worker.
 */
export function describeError(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error ? String(error.message) : String(error);
  } catch {
    return UNDESCRIBABLE;
  }
  // A message of hundreds of megabytes is not copied into every log line that quotes it.
  return text.length > COLUMN_LIMITS.errorLength
    ? `${text.slice(0, COLUMN_LIMITS.errorLength)}... [truncated]`
    : text;
}
