import { MS_PER_DAY } from '../jobs.constants.js';
import {
  checkBoolean,
  checkFunction,
  checkInteger,
} from '../utils/option-checks.js';

/** Enqueue-side module defaults, written once. */
export const ENQUEUE_DEFAULTS = {
  maxPayloadBytes: 1024 * 1024,
  validateJobNames: true,
  enqueueTimeoutMs: 15_000,
} as const;

/**
 * The largest `maxPayloadBytes` accepted: 32 MiB of JSON, what one jsonb value is sure to
 * hold (limits measured in sql/insert-budget.ts): at most 6 bytes of jsonb per byte of JSON
 * stays under its 268,435,455 bytes, and an array of 32 MiB of JSON has fewer than the
 * 16,777,217 elements PostgreSQL cannot parse. A larger payload is refused before anything
 * is sent.
 */
export const MAX_PAYLOAD_BYTES_LIMIT = 32 * 1024 * 1024;

/** The shortest accepted `enqueueTimeoutMs`. */
export const MIN_ENQUEUE_TIMEOUT_MS = 100;

/** The module options that the enqueue path reads, resolved. */
export interface ResolvedEnqueueOptions {
  maxPayloadBytes: number;
  validateJobNames: boolean;
  enqueueTimeoutMs: number;
  traceIdProvider: (() => string | undefined) | undefined;
}

/** Validates the enqueue-side module options and applies their defaults. */
export function resolveEnqueueOptions(options: {
  maxPayloadBytes?: unknown;
  validateJobNames?: unknown;
  enqueueTimeoutMs?: unknown;
  traceIdProvider?: unknown;
}): ResolvedEnqueueOptions {
  return {
    maxPayloadBytes:
      options.maxPayloadBytes === undefined
        ? ENQUEUE_DEFAULTS.maxPayloadBytes
        : checkInteger(
            'maxPayloadBytes',
            options.maxPayloadBytes,
            2,
            MAX_PAYLOAD_BYTES_LIMIT,
          ),
    validateJobNames:
      options.validateJobNames === undefined
        ? ENQUEUE_DEFAULTS.validateJobNames
        : checkBoolean('validateJobNames', options.validateJobNames),
    enqueueTimeoutMs:
      options.enqueueTimeoutMs === undefined
        ? ENQUEUE_DEFAULTS.enqueueTimeoutMs
        : checkInteger(
            'enqueueTimeoutMs',
            options.enqueueTimeoutMs,
            MIN_ENQUEUE_TIMEOUT_MS,
            MS_PER_DAY,
          ),
    traceIdProvider:
      options.traceIdProvider === undefined
        ? undefined
        : checkFunction<() => string | undefined>(
            'traceIdProvider',
            options.traceIdProvider,
          ),
  };
}
