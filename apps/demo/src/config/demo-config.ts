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
  /**
   * Jobs a queue with a backlog may claim beyond the free slots (DEMO_CLAIM_AHEAD); null:
   * the library's default (`batchSize`). GET /worker shows how many wait now.
   */
  claimAhead: number | null;
  /** How often the worker looks for due jobs without a notification (delays, retries). */
  pollIntervalMs: number;
  /** Delay before the first retry of a failed job; doubles on each further attempt. */
  retryBaseMs: number;
  /**
   * Bearer token of the operator routes under /admin (DEMO_ADMIN_TOKEN); null: those routes
   * refuse every request. Never logged.
   */
  adminToken: string | null;
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
  claimAhead: null,
  pollIntervalMs: 500,
  retryBaseMs: 500,
  adminToken: null,
};

/**
 * Reads the settings from environment variables (DEMO_WORKER=off, DEMO_CONCURRENCY,
 * DEMO_CLAIM_AHEAD, DEMO_POLL_INTERVAL_MS, DEMO_RETRY_BASE_MS, DEMO_ADMIN_TOKEN). A malformed value stops the start-up with an
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
    claimAhead: env.DEMO_CLAIM_AHEAD?.trim()
      ? readInteger(env, 'DEMO_CLAIM_AHEAD', 0, 0)
      : DEMO_DEFAULTS.claimAhead,
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
    adminToken: readToken(env, 'DEMO_ADMIN_TOKEN'),
  };
}

/** A secret: unset or blank means none; a short one is refused (it would be guessable). */
function readToken(env: NodeJS.ProcessEnv, name: string): string | null {
  const value = env[name]?.trim();
  if (!value) return null;
  if (value.length < 16)
    throw new Error(`${name} must be at least 16 characters long`);
  return value;
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
