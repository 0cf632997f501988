import { inspect } from 'node:util';
import { COLUMN_LIMITS } from '../jobs.constants.js';

/**
 * Renders what a handler threw for `last_error`: message and stack, truncated. Never
 * throws, whatever was thrown (a getter that throws, a revoked Proxy, a cause cycle).
 */
export function formatJobError(error: unknown): string {
  let text: string;
  try {
    text = describeThrown(error, 0);
  } catch {
    text = 'A value was thrown that cannot be described (accessing it threw)';
  }
  return text.length > COLUMN_LIMITS.errorLength
    ? `${text.slice(0, COLUMN_LIMITS.errorLength - 15)}... [truncated]`
    : text;
}

function describeThrown(error: unknown, depth: number): string {
  if (!(error instanceof Error)) {
    return `Non-Error value thrown: ${inspect(error, { depth: 3, breakLength: Infinity })}`;
  }
  const head = `${error.name}: ${error.message}`;
  let text = error.stack
    ? error.stack.startsWith(head)
      ? error.stack
      : `${head}\n${error.stack}`
    : head;
  if (error.cause !== undefined && depth < 5)
    text += `\nCaused by: ${describeThrown(error.cause, depth + 1)}`;
  return text;
}
