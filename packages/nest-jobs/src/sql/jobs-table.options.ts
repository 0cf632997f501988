import { checkBoolean, checkIdentifier } from '../utils/option-checks.js';

/** Where the table lives by default, and whether start-up migrates it, written once. */
export const TABLE_DEFAULTS = {
  schema: 'public',
  table: 'nest_jobs',
  runMigrations: false,
} as const;

/** The module options that locate and prepare the jobs table, resolved. */
export interface ResolvedTableOptions {
  schema: string;
  table: string;
  runMigrations: boolean;
}

/** Validates the table options and applies their defaults. */
export function resolveTableOptions(options: {
  schema?: unknown;
  table?: unknown;
  runMigrations?: unknown;
}): ResolvedTableOptions {
  return {
    schema:
      options.schema === undefined
        ? TABLE_DEFAULTS.schema
        : checkIdentifier('schema', options.schema),
    table:
      options.table === undefined
        ? TABLE_DEFAULTS.table
        : checkIdentifier('table', options.table),
    runMigrations:
      options.runMigrations === undefined
        ? TABLE_DEFAULTS.runMigrations
        : checkBoolean('runMigrations', options.runMigrations),
  };
}
