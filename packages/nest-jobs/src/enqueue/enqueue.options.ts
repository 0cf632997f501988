import {
  checkBoolean,
  checkFunction,
  checkInteger,
} from '../utils/option-checks.js';

/** Enqueue-side module defaults, written once. */
export const ENQUEUE_DEFAULTS = {
  maxPayloadBytes: 1024 * 1024,
  validateJobNames: true,
} as const;

/** PostgreSQL refuses a jsonb value over 256 MB. */
export const MAX_PAYLOAD_BYTES_LIMIT = 256 * 1024 * 1024;

/** The module options that the enqueue path reads, resolved. */
export interface ResolvedEnqueueOptions {
  maxPayloadBytes: number;
  validateJobNames: boolean;
  traceIdProvider: (() => string | undefined) | undefined;
}

/** Validates the enqueue-side module options and applies their defaults. */
export function resolveEnqueueOptions(options: {
  maxPayloadBytes?: unknown;
  validateJobNames?: unknown;
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
    traceIdProvider:
      options.traceIdProvider === undefined
        ? undefined
        : checkFunction<() => string | undefined>(
            'traceIdProvider',
            options.traceIdProvider,
          ),
  };
}
