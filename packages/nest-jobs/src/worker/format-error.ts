import { inspect } from 'node:util';
import { MAX_ERROR_LENGTH } from '../jobs.constants.js';

/** Renders what a handler threw for `last_error`: message and stack, truncated. */
export function formatJobError(error: unknown): string {
  let text: string;
  if (error instanceof Error) {
    const head = `${error.name}: ${error.message}`;
    text = error.stack
      ? error.stack.startsWith(head)
        ? error.stack
        : `${head}\n${error.stack}`
      : head;
    if (error.cause !== undefined)
      text += `\nCaused by: ${formatJobError(error.cause)}`;
  } else {
    text = `Non-Error value thrown: ${inspect(error, { depth: 3, breakLength: Infinity })}`;
  }
  return text.length > MAX_ERROR_LENGTH
    ? `${text.slice(0, MAX_ERROR_LENGTH - 15)}... [truncated]`
    : text;
}
