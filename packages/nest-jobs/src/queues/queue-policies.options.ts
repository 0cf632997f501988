import {
  checkBoolean,
  checkInteger,
  checkName,
  checkPlainObject,
  optionError,
  optionKeys,
} from '../utils/option-checks.js';
import { MS_PER_DAY } from '../jobs.constants.js';
import type {
  FailedJobKeyPolicy,
  FairDelivery,
  QueuePolicy,
  QueueRateLimit,
} from './queue-policy.interface.js';

/** The delivery of an ordered queue, resolved. */
export interface OrderedDelivery {
  /** Whether a job failed for good holds its key's later jobs. */
  readonly blockOnFailure: boolean;
}

/** The weights of a fair queue's keys (`fair: { weights, defaultWeight }`), resolved. */
export interface KeyWeights {
  /** Weight by key, for the claim to split a claim's room by. */
  readonly byKey: ReadonlyMap<string, number>;
  /** The weights as the claim statement reads them: a JSON object, key -> weight. */
  readonly json: string;
  /** The weight of a key not in `byKey`. */
  readonly defaultWeight: number;
}

/** `queuePolicies` resolved: only queues that have a policy are present. */
export interface ResolvedQueuePolicies {
  /** Ordered queues by name (a Map: a queue may be named `constructor`). */
  readonly ordered: ReadonlyMap<string, OrderedDelivery>;
  /** Cluster-wide limits of running jobs, by queue. */
  readonly concurrency: ReadonlyMap<string, number>;
  /** Cluster-wide limits of running jobs per key, by key-limited queue. */
  readonly keyConcurrency: ReadonlyMap<string, number>;
  /** Cluster-wide limits of starts per period, by queue. */
  readonly rateLimit: ReadonlyMap<string, QueueRateLimit>;
  /** Cluster-wide limits of starts per period of one key, by queue. */
  readonly keyRateLimit: ReadonlyMap<string, QueueRateLimit>;
  /**
   * Queues whose jobs carry a `concurrencyKey` and are claimed key by key, round robin
   * (`fair`, `keyConcurrency`, or `keyRateLimit` on a queue that is not ordered).
   */
  readonly keyed: ReadonlySet<string>;
  /** Keyed queues whose keys have weights (`fair: { weights, defaultWeight }`). */
  readonly weights: ReadonlyMap<string, KeyWeights>;
  /**
   * Queues whose next job may become claimable only when a job of theirs ends (ordered or
   * limited): a worker that wrote such an outcome claims from the queue at once.
   */
  readonly claimAfterOutcome: ReadonlySet<string>;
}

/** The largest cluster-wide `concurrency` of a queue. */
export const MAX_QUEUE_CONCURRENCY = 100_000;

const QUEUE_POLICY_KEYS = optionKeys<QueuePolicy>({
  ordered: true,
  onFailedJob: true,
  concurrency: true,
  keyConcurrency: true,
  rateLimit: true,
  keyRateLimit: true,
  fair: true,
});

const RATE_LIMIT_KEYS = optionKeys<QueueRateLimit>({
  limit: true,
  periodMs: true,
});

/** The largest `rateLimit.limit`. */
export const MAX_RATE_LIMIT = 1_000_000;

/**
 * The largest weight of a key: a turn of a weight-1,000 key is 1,000 jobs, already more than
 * most claims take (`worker.batchSize`); beyond it, shares would be decided by claim sizes.
 */
export const MAX_KEY_WEIGHT = 1_000;

/** The most keys `fair.weights` may name: the statement carries them on every claim. */
export const MAX_WEIGHTED_KEYS = 10_000;

const FAIR_DELIVERY_KEYS = optionKeys<FairDelivery>({
  weights: true,
  defaultWeight: true,
});

const FAILED_JOB_KEY_POLICIES: readonly FailedJobKeyPolicy[] = [
  'block',
  'continue',
];

/**
 * Validates the `queuePolicies` module option.
 * @throws InvalidJobsOptionError naming the field (`queuePolicies.<queue>.<field>`).
 */
export function resolveQueuePolicies(value: unknown): ResolvedQueuePolicies {
  const ordered = new Map<string, OrderedDelivery>();
  const concurrency = new Map<string, number>();
  const keyConcurrency = new Map<string, number>();
  const rateLimit = new Map<string, QueueRateLimit>();
  const keyRateLimit = new Map<string, QueueRateLimit>();
  const keyed = new Set<string>();
  const weights = new Map<string, KeyWeights>();
  const claimAfterOutcome = new Set<string>();
  const resolved = {
    ordered,
    concurrency,
    keyConcurrency,
    rateLimit,
    keyRateLimit,
    keyed,
    weights,
    claimAfterOutcome,
  };
  if (value === undefined) return resolved;
  const policies = checkPlainObject(
    'queuePolicies',
    value,
    typeof value === 'object' && value !== null ? Object.keys(value) : [],
  );
  // Own enumerable entries only: nothing inherited becomes a policy.
  for (const [queue, raw] of Object.entries(policies)) {
    checkName('queuePolicies (queue name)', queue);
    const path = `queuePolicies.${queue}`;
    const policy = checkPlainObject(
      path,
      raw,
      QUEUE_POLICY_KEYS,
    ) as QueuePolicy;
    const isOrdered =
      policy.ordered === undefined
        ? false
        : checkBoolean(`${path}.ordered`, policy.ordered);
    if (policy.onFailedJob !== undefined) {
      if (!FAILED_JOB_KEY_POLICIES.includes(policy.onFailedJob))
        throw optionError(
          `${path}.onFailedJob`,
          policy.onFailedJob,
          `expected one of ${FAILED_JOB_KEY_POLICIES.map((p) => `'${p}'`).join(', ')}`,
        );
      if (!isOrdered)
        throw optionError(
          `${path}.onFailedJob`,
          policy.onFailedJob,
          'applies to ordered queues only: set ordered: true as well',
        );
    }
    if (isOrdered) {
      ordered.set(queue, {
        blockOnFailure: (policy.onFailedJob ?? 'block') === 'block',
      });
      claimAfterOutcome.add(queue);
    }
    if (policy.concurrency !== undefined) {
      concurrency.set(
        queue,
        checkInteger(
          `${path}.concurrency`,
          policy.concurrency,
          1,
          MAX_QUEUE_CONCURRENCY,
        ),
      );
      claimAfterOutcome.add(queue);
    }
    if (policy.keyConcurrency !== undefined) {
      const perKey = checkInteger(
        `${path}.keyConcurrency`,
        policy.keyConcurrency,
        1,
        MAX_QUEUE_CONCURRENCY,
      );
      if (isOrdered)
        throw optionError(
          `${path}.keyConcurrency`,
          perKey,
          'cannot be combined with ordered: an ordered queue runs one job per key already',
        );
      keyConcurrency.set(queue, perKey);
      claimAfterOutcome.add(queue);
    }
    if (policy.rateLimit !== undefined)
      rateLimit.set(queue, checkRate(`${path}.rateLimit`, policy.rateLimit));
    if (policy.keyRateLimit !== undefined)
      keyRateLimit.set(
        queue,
        checkRate(`${path}.keyRateLimit`, policy.keyRateLimit),
      );
    // `fair: { weights }` is fair too; an object weighing every key alike is `fair: true`.
    const fairObject = typeof policy.fair === 'object' && policy.fair !== null;
    const weighted = fairObject
      ? checkFairDelivery(`${path}.fair`, policy.fair as object)
      : null;
    const fair =
      fairObject ||
      (policy.fair === undefined
        ? false
        : checkBoolean(`${path}.fair`, policy.fair));
    if (fair && isOrdered)
      throw optionError(
        `${path}.fair`,
        fair,
        'cannot be combined with ordered: an ordered queue delivers its keys round robin already',
      );
    if (
      !isOrdered &&
      (fair || keyConcurrency.has(queue) || keyRateLimit.has(queue))
    )
      keyed.add(queue);
    if (weighted) weights.set(queue, weighted);
  }
  return resolved;
}

/**
 * `fair: { weights, defaultWeight }`, checked; null when it weighs every key alike (no
 * weights and a default of 1: the plain fair claim).
 */
function checkFairDelivery(path: string, value: object): KeyWeights | null {
  if (!isPlainObject(value))
    throw optionError(
      path,
      value,
      'expected true, false or a plain object { weights, defaultWeight }',
    );
  const fair = checkPlainObject(path, value, FAIR_DELIVERY_KEYS) as Record<
    keyof FairDelivery,
    unknown
  >;
  const defaultWeight =
    fair.defaultWeight === undefined
      ? 1
      : checkInteger(
          `${path}.defaultWeight`,
          fair.defaultWeight,
          1,
          MAX_KEY_WEIGHT,
        );
  const byKey = new Map<string, number>();
  if (fair.weights !== undefined) {
    const given = fair.weights;
    // A Map, an array or a class instance would be read as no weights at all: refused.
    if (!isPlainObject(given))
      throw optionError(
        `${path}.weights`,
        given,
        'expected a plain object of concurrencyKey -> weight',
      );
    if (Object.getOwnPropertySymbols(given).length > 0)
      throw optionError(
        `${path}.weights`,
        given,
        'expected string keys (concurrencyKey values), not symbols',
      );
    const entries = Object.entries(given);
    if (entries.length > MAX_WEIGHTED_KEYS)
      throw optionError(
        `${path}.weights`,
        `${entries.length} keys`,
        `expected at most ${MAX_WEIGHTED_KEYS} keys`,
      );
    for (const [key, weight] of entries) {
      // Checked like the concurrencyKey it must match (a key no job can carry never applies).
      checkName(`${path}.weights (key)`, key);
      byKey.set(
        key,
        checkInteger(`${path}.weights.${key}`, weight, 1, MAX_KEY_WEIGHT),
      );
    }
  }
  if (defaultWeight === 1 && [...byKey.values()].every((w) => w === 1))
    return null;
  return {
    byKey,
    json: JSON.stringify(Object.fromEntries(byKey)),
    defaultWeight,
  };
}

/** An object literal (or `Object.create(null)`): not an array, a Map or a class instance. */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    [Object.prototype, null].includes(Object.getPrototypeOf(value))
  );
}

/** A `{ limit, periodMs }` of `rateLimit` or `keyRateLimit`, checked. */
function checkRate(path: string, value: unknown): QueueRateLimit {
  const rate = checkPlainObject(path, value, RATE_LIMIT_KEYS) as Record<
    keyof QueueRateLimit,
    unknown
  >;
  return {
    limit: checkInteger(`${path}.limit`, rate.limit, 1, MAX_RATE_LIMIT),
    periodMs: checkInteger(`${path}.periodMs`, rate.periodMs, 1, MS_PER_DAY),
  };
}
