import { BadRequestException } from '@nestjs/common';
import { optionalInteger, requiredString } from '../common/input-fields.js';
import type { ImportPayload } from './import.job.js';
import type { TransferPayload } from './transfer.job.js';

/** Validates the body of POST /transfers. */
export function parseTransfer(input: Record<string, unknown>): TransferPayload {
  const failFirstAttempt = input.failFirstAttempt;
  if (failFirstAttempt !== undefined && typeof failFirstAttempt !== 'boolean')
    throw new BadRequestException('failFirstAttempt must be true or false');
  return {
    from: requiredString(input, 'from', 64),
    to: requiredString(input, 'to', 64),
    amount: optionalInteger(input, 'amount', { min: 1, max: 1_000_000 }) ?? 1,
    ...(failFirstAttempt === undefined ? {} : { failFirstAttempt }),
  };
}

/** Validates the body of POST /imports. */
export function parseImport(input: Record<string, unknown>): ImportPayload {
  const lines = optionalInteger(input, 'lines', { min: 1, max: 1_000 }) ?? 50;
  const failAfterLine = optionalInteger(input, 'failAfterLine', {
    min: 0,
    max: lines - 1,
  });
  return failAfterLine === undefined ? { lines } : { lines, failAfterLine };
}
