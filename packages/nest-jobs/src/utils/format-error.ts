import { inspect } from 'node:util';
import { COLUMN_LIMITS } from '../jobs.constants.js';
import { toPostgresText } from './postgres-text.js';

/** `last_error` of a thrown value that could not be described (reading it threw). */
export const UNDESCRIBABLE_ERROR_TEXT =
  'A value was thrown that cannot be described (accessing it threw)';

const TRUNCATED = '... [truncated]';

/**
 * Renders what a handler threw for `last_error`: message and stack, truncated to
 * `COLUMN_LIMITS.errorLength` characters, with what PostgreSQL refuses in text (U+0000, lone
 * surrogates) replaced by U+FFFD, so the failure write is never refused for its text. Never
 * throws, whatever was thrown (a getter that throws, a revoked Proxy, a cause cycle, a
 * Symbol, a BigInt, a string of hundreds of megabytes).
 */
export function formatJobError(error: unknown): string {
  let text: string;
  try {
    text = describeThrown(error, 0);
  } catch {
    text = UNDESCRIBABLE_ERROR_TEXT;
  }
  if (text.length > COLUMN_LIMITS.errorLength)
    text = `${text.slice(0, COLUMN_LIMITS.errorLength - TRUNCATED.length)}${TRUNCATED}`;
  // After truncating: a cut through a surrogate pair leaves a lone half, replaced here.
  return toPostgresText(text);
}

function describeThrown(error: unknown, depth: number): string {
  // `instanceof` walks the prototype chain: it throws for a revoked Proxy (caught above).
  if (!(error instanceof Error)) {
    return `Non-Error value thrown: ${bounded(inspect(error, { depth: 3, breakLength: Infinity }))}`;
  }
  // Each part is cut to the column's size first: a message of hundreds of megabytes must
  // not be copied whole into the concatenations below.
  const head = `${bounded(String(error.name))}: ${bounded(String(error.message))}`;
  const stack: unknown = error.stack;
  let text =
    typeof stack === 'string' && stack !== ''
      ? stack.startsWith(head)
        ? bounded(stack)
        : `${head}\n${bounded(stack)}`
      : head;
  if (text.length < COLUMN_LIMITS.errorLength && depth < 5) {
    // A cause that cannot be described costs only its own line, not the error's text.
    let cause: string | undefined;
    try {
      cause =
        error.cause === undefined
          ? undefined
          : describeThrown(error.cause, depth + 1);
    } catch {
      cause = UNDESCRIBABLE_ERROR_TEXT;
    }
    if (cause !== undefined) text += `\nCaused by: ${cause}`;
  }
  return text;
}

/** `text`, cut just past what `last_error` keeps (so the caller still sees it was longer). */
function bounded(text: string): string {
  return text.length > COLUMN_LIMITS.errorLength
    ? text.slice(0, COLUMN_LIMITS.errorLength + 1)
    : text;
}
