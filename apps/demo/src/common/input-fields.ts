import { BadRequestException } from '@nestjs/common';

/** A required, non-empty string (trimmed), at most `maxLength` characters. */
export function requiredString(
  input: Record<string, unknown>,
  field: string,
  maxLength: number,
): string {
  const value = input[field];
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BadRequestException(`${field} must be a non-empty string`);
  }
  if (value.trim().length > maxLength) {
    throw new BadRequestException(
      `${field} must be at most ${maxLength} characters`,
    );
  }
  return value.trim();
}

/** An optional string (query strings repeat a key as an array, which is refused). */
export function optionalString(
  input: Record<string, unknown>,
  field: string,
): string | undefined {
  const value = input[field];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new BadRequestException(`${field} must be given once, as a string`);
  }
  return value;
}

/**
 * An optional integer in [min, max]. Accepts a JSON number or, for query strings, its
 * decimal text.
 */
export function optionalInteger(
  input: Record<string, unknown>,
  field: string,
  range: { min: number; max: number },
): number | undefined {
  const value = input[field];
  if (value === undefined || value === '') return undefined;
  const parsed =
    typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
  if (
    typeof parsed !== 'number' ||
    !Number.isInteger(parsed) ||
    parsed < range.min ||
    parsed > range.max
  ) {
    throw new BadRequestException(
      `${field} must be an integer from ${range.min} to ${range.max}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}
