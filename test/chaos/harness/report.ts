import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the figures (one JSON per scenario) and the worker logs go; git-ignored. */
export const RESULTS_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '../results',
);

export type Figures = Record<string, unknown>;

/**
 * Prints the summary line of a scenario (straight to stdout, so jest does not wrap it) and
 * writes its figures to results/<scenario>.json.
 */
export function reportScenario(scenario: string, figures: Figures): void {
  const line = `CHAOS ${scenario}: ${Object.entries(figures)
    .map(([key, value]) => `${key}=${format(value)}`)
    .join(' ')}`;
  process.stdout.write(`\n${line}\n`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(
    join(RESULTS_DIR, `${scenario}.json`),
    `${JSON.stringify({ scenario, finishedAt: new Date().toISOString(), database: databaseKind(), ...figures }, null, 2)}\n`,
  );
}

function format(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(format).join('; ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0
      ? '{}'
      : `{${entries.map(([k, v]) => `${k}:${format(v)}`).join(',')}}`;
  }
  return String(value);
}

function databaseKind(): string {
  return process.env.NEST_JOBS_TEST_PG === 'embedded'
    ? 'embedded'
    : 'DATABASE_URL';
}
