import { MS_PER_DAY, MS_PER_MINUTE } from '../jobs.constants.js';
import {
  checkBoolean,
  checkInteger,
  checkName,
  checkPlainObject,
  optionError,
  optionKeys,
} from '../utils/option-checks.js';
import type { JobsWorkerOptions } from './worker-options.interface.js';

/** The worker's defaults, written once (the option docs repeat them for users' editors). */
export const WORKER_DEFAULTS = {
  enabled: true,
  mode: 'auto',
  concurrency: 20,
  pollIntervalMs: 1_000,
  leaseMs: 60_000,
  heartbeatIntervalMs: 15_000,
  progressIntervalMs: 1_000,
  recoveryIntervalMs: 15_000,
  shutdownTimeoutMs: 10_000,
  cleanupIntervalMs: 60_000,
  connections: 3,
  jobTimeoutMs: 15 * MS_PER_MINUTE,
  transactionTimeoutMs: 60_000,
} as const;

/** Bounds of the worker's options. */
export const WORKER_LIMITS = {
  maxConcurrency: 10_000,
  maxConnections: 100,
  /** Longest period or timeout any worker option accepts. */
  maxIntervalMs: MS_PER_DAY,
  minLeaseMs: 1_000,
  minPollIntervalMs: 10,
  minSweepIntervalMs: 10,
  minQueryTimeoutMs: 100,
} as const;

/** By default the worker's statements wait at most leaseMs divided by this. */
const QUERY_TIMEOUT_LEASE_FRACTION = 2;

/** Worker options with every default applied. */
export interface ResolvedWorkerOptions {
  enabled: boolean;
  /** 'manual': runs jobs only when drained (see JobsWorkerOptions.mode). */
  mode: 'auto' | 'manual';
  /** null: every queue that has a handler in this process. */
  queues: string[] | null;
  concurrency: number;
  /** Per-queue caps. A Map: a queue may be named `constructor` or `__proto__`. */
  queueConcurrency: ReadonlyMap<string, number>;
  batchSize: number;
  /**
   * Jobs a backlogged queue may claim beyond the free slots (0: none); null (the default):
   * what the slots finish in about 50 ms, at least `batchSize` (ClaimAheadAllowance).
   */
  claimAhead: number | null;
  pollIntervalMs: number;
  leaseMs: number;
  heartbeatIntervalMs: number;
  progressIntervalMs: number;
  /** Client-side bound of each statement of the worker (and of its connection attempts). */
  queryTimeoutMs: number;
  recoveryIntervalMs: number;
  shutdownTimeoutMs: number;
  jobTimeoutMs: number;
  /** Bound of a job's transaction once it completes or checkpoints the job (see the option). */
  transactionTimeoutMs: number;
  cleanupIntervalMs: number;
  connections: number;
}

const WORKER_KEYS = optionKeys<JobsWorkerOptions>({
  enabled: true,
  mode: true,
  queues: true,
  concurrency: true,
  queueConcurrency: true,
  batchSize: true,
  claimAhead: true,
  pollIntervalMs: true,
  leaseMs: true,
  heartbeatIntervalMs: true,
  progressIntervalMs: true,
  queryTimeoutMs: true,
  recoveryIntervalMs: true,
  shutdownTimeoutMs: true,
  jobTimeoutMs: true,
  transactionTimeoutMs: true,
  cleanupIntervalMs: true,
  connections: true,
});

/**
 * Validates the `worker` option and applies its defaults.
 * @throws InvalidJobsOptionError naming the first bad field (`worker.<field>`) and its value.
 */
export function resolveWorkerOptions(raw: unknown): ResolvedWorkerOptions {
  const worker = checkPlainObject('worker', raw ?? {}, WORKER_KEYS) as Record<
    keyof JobsWorkerOptions,
    unknown
  >;
  const ms = (key: keyof JobsWorkerOptions, fallback: number, min = 1) =>
    worker[key] === undefined
      ? fallback
      : checkInteger(
          `worker.${key}`,
          worker[key],
          min,
          WORKER_LIMITS.maxIntervalMs,
        );
  const count = (
    key: keyof JobsWorkerOptions,
    fallback: number,
    max: number,
  ) =>
    worker[key] === undefined
      ? fallback
      : checkInteger(`worker.${key}`, worker[key], 1, max);
  const concurrency = count(
    'concurrency',
    WORKER_DEFAULTS.concurrency,
    WORKER_LIMITS.maxConcurrency,
  );
  const batchSize = count(
    'batchSize',
    concurrency,
    WORKER_LIMITS.maxConcurrency,
  );
  const leaseMs = ms(
    'leaseMs',
    WORKER_DEFAULTS.leaseMs,
    WORKER_LIMITS.minLeaseMs,
  );
  const heartbeatIntervalMs = ms(
    'heartbeatIntervalMs',
    Math.min(WORKER_DEFAULTS.heartbeatIntervalMs, Math.floor(leaseMs / 3)),
  );
  if (heartbeatIntervalMs >= leaseMs) {
    throw optionError(
      'worker.heartbeatIntervalMs',
      heartbeatIntervalMs,
      `expected less than worker.leaseMs (${leaseMs}) so a running job's lease is renewed before it expires`,
    );
  }
  const queryTimeoutMs = ms(
    'queryTimeoutMs',
    Math.floor(leaseMs / QUERY_TIMEOUT_LEASE_FRACTION),
    WORKER_LIMITS.minQueryTimeoutMs,
  );
  if (queryTimeoutMs >= leaseMs) {
    throw optionError(
      'worker.queryTimeoutMs',
      queryTimeoutMs,
      `expected less than worker.leaseMs (${leaseMs}): a lease renewal that waits longer cannot save the lease`,
    );
  }
  return {
    enabled:
      worker.enabled === undefined
        ? WORKER_DEFAULTS.enabled
        : checkBoolean('worker.enabled', worker.enabled),
    mode: resolveMode(worker.mode),
    queues:
      worker.queues === undefined ? null : resolveQueueList(worker.queues),
    concurrency,
    queueConcurrency: resolveQueueConcurrency(
      worker.queueConcurrency,
      concurrency,
    ),
    batchSize,
    claimAhead:
      worker.claimAhead === undefined
        ? null
        : checkInteger(
            'worker.claimAhead',
            worker.claimAhead,
            0,
            WORKER_LIMITS.maxConcurrency,
          ),
    pollIntervalMs: ms(
      'pollIntervalMs',
      WORKER_DEFAULTS.pollIntervalMs,
      WORKER_LIMITS.minPollIntervalMs,
    ),
    leaseMs,
    heartbeatIntervalMs,
    progressIntervalMs: ms(
      'progressIntervalMs',
      WORKER_DEFAULTS.progressIntervalMs,
      WORKER_LIMITS.minPollIntervalMs,
    ),
    queryTimeoutMs,
    recoveryIntervalMs: ms(
      'recoveryIntervalMs',
      WORKER_DEFAULTS.recoveryIntervalMs,
      WORKER_LIMITS.minSweepIntervalMs,
    ),
    shutdownTimeoutMs: ms(
      'shutdownTimeoutMs',
      WORKER_DEFAULTS.shutdownTimeoutMs,
      0,
    ),
    jobTimeoutMs: ms('jobTimeoutMs', WORKER_DEFAULTS.jobTimeoutMs),
    transactionTimeoutMs: ms(
      'transactionTimeoutMs',
      WORKER_DEFAULTS.transactionTimeoutMs,
    ),
    cleanupIntervalMs: ms(
      'cleanupIntervalMs',
      WORKER_DEFAULTS.cleanupIntervalMs,
      WORKER_LIMITS.minSweepIntervalMs,
    ),
    connections: count(
      'connections',
      WORKER_DEFAULTS.connections,
      WORKER_LIMITS.maxConnections,
    ),
  };
}

function resolveMode(value: unknown): 'auto' | 'manual' {
  if (value === undefined) return WORKER_DEFAULTS.mode;
  if (value === 'auto' || value === 'manual') return value;
  throw optionError('worker.mode', value, "expected 'auto' or 'manual'");
}

function resolveQueueList(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw optionError(
      'worker.queues',
      value,
      'expected a non-empty array of queue names',
    );
  }
  return [
    ...new Set(
      value.map((queue, index) => checkName(`worker.queues[${index}]`, queue)),
    ),
  ];
}

function resolveQueueConcurrency(
  value: unknown,
  concurrency: number,
): ReadonlyMap<string, number> {
  // Queue names are the user's strings: as keys of a plain object, a queue named
  // `constructor` or `toString` would read a function from Object.prototype as its cap.
  const resolved = new Map<string, number>();
  if (value === undefined) return resolved;
  const caps = checkPlainObject(
    'worker.queueConcurrency',
    value,
    Object.keys(value as object),
  );
  // Own enumerable entries only: nothing inherited becomes a cap.
  for (const [queue, cap] of Object.entries(caps)) {
    checkName('worker.queueConcurrency (queue name)', queue);
    resolved.set(
      queue,
      checkInteger(`worker.queueConcurrency.${queue}`, cap, 1, concurrency),
    );
  }
  return resolved;
}
