import {
  checkBoolean,
  checkInteger,
  checkPlainObject,
  optionError,
  optionKeys,
} from '../utils/option-checks.js';
import type { JobsDatabaseOptions } from './database-options.interface.js';

/** The `database` option's defaults, written once (the option docs repeat them). */
export const DATABASE_DEFAULTS = {
  preparedStatements: 'auto',
  directWorkerPool: false,
  wakeUps: 'listen',
  listenCheckMs: 5_000,
} as const;

/** Longest start-up LISTEN check accepted. */
export const MAX_LISTEN_CHECK_MS = 60_000;

/** The `database` option with every default applied. */
export interface ResolvedDatabaseOptions {
  preparedStatements: boolean | 'auto';
  directUrl: string | undefined;
  directWorkerPool: boolean;
  wakeUps: 'listen' | 'poll';
  listenCheckMs: number;
}

const DATABASE_KEYS = optionKeys<JobsDatabaseOptions>({
  preparedStatements: true,
  directUrl: true,
  directWorkerPool: true,
  wakeUps: true,
  listenCheckMs: true,
});

/**
 * Validates the `database` option and applies its defaults.
 * @throws InvalidJobsOptionError naming the first bad field (`database.<field>`) and its value.
 */
export function resolveDatabaseOptions(raw: unknown): ResolvedDatabaseOptions {
  const options = checkPlainObject(
    'database',
    raw ?? {},
    DATABASE_KEYS,
  ) as Record<keyof JobsDatabaseOptions, unknown>;
  const { preparedStatements, directUrl, wakeUps } = options;
  if (
    preparedStatements !== undefined &&
    preparedStatements !== 'auto' &&
    typeof preparedStatements !== 'boolean'
  ) {
    throw optionError(
      'database.preparedStatements',
      preparedStatements,
      "expected true, false or 'auto'",
    );
  }
  if (directUrl !== undefined && !isPostgresUrl(directUrl)) {
    throw optionError(
      'database.directUrl',
      // The error reaches logs: a password in the string must not.
      typeof directUrl === 'string'
        ? directUrl.replace(/:[^:@/]*@/, ':***@')
        : directUrl,
      'expected a postgres:// or postgresql:// connection string',
    );
  }
  if (wakeUps !== undefined && wakeUps !== 'listen' && wakeUps !== 'poll') {
    throw optionError(
      'database.wakeUps',
      wakeUps,
      "expected 'listen' or 'poll'",
    );
  }
  const directWorkerPool =
    options.directWorkerPool === undefined
      ? DATABASE_DEFAULTS.directWorkerPool
      : checkBoolean('database.directWorkerPool', options.directWorkerPool);
  if (directWorkerPool && directUrl === undefined) {
    throw optionError(
      'database.directWorkerPool',
      directWorkerPool,
      'expected database.directUrl to be set too (the URL the worker pool goes to)',
    );
  }
  return {
    preparedStatements:
      preparedStatements ?? DATABASE_DEFAULTS.preparedStatements,
    directUrl,
    directWorkerPool,
    wakeUps: wakeUps ?? DATABASE_DEFAULTS.wakeUps,
    listenCheckMs:
      options.listenCheckMs === undefined
        ? DATABASE_DEFAULTS.listenCheckMs
        : checkInteger(
            'database.listenCheckMs',
            options.listenCheckMs,
            1,
            MAX_LISTEN_CHECK_MS,
          ),
  };
}

function isPostgresUrl(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  try {
    const { protocol } = new URL(value);
    return protocol === 'postgres:' || protocol === 'postgresql:';
  } catch {
    return false;
  }
}
