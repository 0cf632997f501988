import { describe, expect, it } from '@jest/globals';
import { MUTATIONS } from '../../chaos/fixture/protocol.js';
import { describeJobsTable } from '../../../packages/nest-jobs/src/sql/jobs-table.js';
import { buildJobsQueries } from '../../../packages/nest-jobs/src/sql/jobs.queries.js';

/** Every statement text of the default table, nested groups (per status) included. */
function statementTexts(): string[] {
  const texts: string[] = [];
  const walk = (value: unknown) => {
    if (typeof value !== 'object' || value === null) return;
    const text = (value as { text?: unknown }).text;
    if (typeof text === 'string') texts.push(text);
    else Object.values(value).forEach(walk);
  };
  walk(buildJobsQueries(describeJobsTable('public', 'nest_jobs')));
  return texts;
}

/**
 * The chaos harness's deliberate bugs rewrite the library's statements by text; a pattern
 * the SQL no longer contains only shows once a chaos run's worker exits. Caught here instead,
 * when the statement changes.
 */
describe('chaos mutations', () => {
  it.each(Object.entries(MUTATIONS))(
    '%s still matches the statement it rewrites',
    (_name, mutation) => {
      const tagged = statementTexts().filter((text) =>
        text.startsWith(`/* nest-jobs:${mutation.statement} */`),
      );
      expect(tagged.length).toBeGreaterThan(0);
      expect(tagged.some((text) => text.includes(mutation.from))).toBe(true);
    },
  );
});
