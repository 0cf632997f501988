/** Injection token of the demo's `DemoConfig`. */
export const DEMO_CONFIG = Symbol('nest-jobs-demo:config');

/** Everything the demo can be tuned with; read once at start-up. */
export interface DemoConfig {
  /** PostgreSQL connection URL of the demo database. */
  databaseUrl: string;
  /** `false` makes this instance API-only: it enqueues but never runs jobs. */
  workerEnabled: boolean;
  /** Jobs run at once by this process. */
  concurrency: number;
  /** How often the worker looks for due jobs without a notification (delays, retries). */
  pollIntervalMs: number;
  /** Delay before the first retry of a failed job; doubles on each further attempt. */
  retryBaseMs: number;
}

/** Settings that have a default; only the database URL must be given. */
export type DemoSettings = Omit<DemoConfig, 'databaseUrl'>;

/**
 * The defaults favour a quick demo over production values: retries after half a second and
 * a poll every half second, so delays and backoff show up within a few seconds.
 */
export const DEMO_DEFAULTS: DemoSettings = {
  workerEnabled: true,
  concurrency: 5,
  pollIntervalMs: 500,
  retryBaseMs: 500,
};

/**
 * Reads the settings from environment variables (DEMO_WORKER=off, DEMO_CONCURRENCY,
 * DEMO_POLL_INTERVAL_MS, DEMO_RETRY_BASE_MS). A malformed value stops the start-up with an
 * error naming the variable, rather than silently falling back to the default.
 */
export function demoSettingsFromEnv(env: NodeJS.ProcessEnv): DemoSettings {
  return {
    workerEnabled: readSwitch(env, 'DEMO_WORKER', DEMO_DEFAULTS.workerEnabled),
    concurrency: readInteger(
      env,
      'DEMO_CONCURRENCY',
      DEMO_DEFAULTS.concurrency,
      1,
    ),
    pollIntervalMs: readInteger(
      env,
      'DEMO_POLL_INTERVAL_MS',
      DEMO_DEFAULTS.pollIntervalMs,
      10,
    ),
    retryBaseMs: readInteger(
      env,
      'DEMO_RETRY_BASE_MS',
      DEMO_DEFAULTS.retryBaseMs,
      1,
    ),
  };
}

function readSwitch(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: boolean,
): boolean {
  const value = env[name]?.trim().toLowerCase();
  if (!value) return fallback;
  if (['on', 'true', '1'].includes(value)) return true;
  if (['off', 'false', '0'].includes(value)) return false;
  throw new Error(`${name} must be on or off, got ${JSON.stringify(value)}`);
}

function readInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
): number {
  const value = env[name]?.trim();
  if (!value) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) {
    throw new Error(
      `${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`,
    );
  }
  return parsed;
}
