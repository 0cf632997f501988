import {
  checkBoolean,
  checkIdentifier,
  optionError,
} from '../utils/option-checks.js';
import { MAX_TABLE_NAME_BYTES, TABLE_NAME_SUFFIXES } from './jobs-table.js';

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
        : checkSchemaName(options.schema),
    table:
      options.table === undefined
        ? TABLE_DEFAULTS.table
        : checkTableName(options.table),
    runMigrations:
      options.runMigrations === undefined
        ? TABLE_DEFAULTS.runMigrations
        : checkBoolean('runMigrations', options.runMigrations),
  };
}

/**
 * The `schema` option: an identifier PostgreSQL lets a user create tables in. It reserves
 * names beginning with `pg_` (CREATE SCHEMA refuses them; pg_catalog and pg_toast hold the
 * system catalogs) and `information_schema` (the SQL-standard views): refused here, at
 * option resolution, rather than by the first DDL or enqueue. Case-sensitive, as PostgreSQL
 * checks the quoted name the library sends.
 * @throws InvalidJobsOptionError naming `schema`.
 */
export function checkSchemaName(value: unknown): string {
  const schema = checkIdentifier('schema', value);
  if (schema.startsWith('pg_') || schema === 'information_schema') {
    throw optionError(
      'schema',
      schema,
      "expected a schema PostgreSQL does not reserve (names beginning with pg_, and information_schema, are the system's)",
    );
  }
  return schema;
}

/**
 * The `table` option: an identifier short enough that every name derived from it (its
 * constraints and indexes) fits PostgreSQL's 63 bytes, so none is truncated.
 * @throws InvalidJobsOptionError naming `table` and the longest derived name.
 */
export function checkTableName(value: unknown): string {
  const table = checkIdentifier('table', value);
  if (Buffer.byteLength(table, 'utf8') > MAX_TABLE_NAME_BYTES) {
    const longest = TABLE_NAME_SUFFIXES.reduce((a, b) =>
      b.length > a.length ? b : a,
    );
    throw optionError(
      'table',
      table,
      `expected at most ${MAX_TABLE_NAME_BYTES} bytes, so that the derived name "${table}${longest}" fits PostgreSQL's 63-byte identifiers`,
    );
  }
  return table;
}
