import { describe, expect, it } from '@jest/globals';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';
import { buildJobsQueries } from '../../../packages/nest-jobs/src/sql/jobs.queries.js';
import { describeJobsTable } from '../../../packages/nest-jobs/src/sql/jobs-table.js';
import {
  clockExpression,
  named,
  statementElapsedMs,
  type NamedStatement,
} from '../../../packages/nest-jobs/src/sql/queries/named-statement.js';
import { PACKAGE_DIR } from '../layout/package-layout.js';

/**
 * Issue 24: every statement takes its time from the clock parameter (NULL in production, a
 * test's pinned time otherwise), or a test clock would move some of the database's time and
 * not the rest. named() rewrites each `now()`; what it cannot rewrite (other time
 * functions, SQL text that bypasses it) is what these checks refuse.
 */

/** Time functions of PostgreSQL other than the clock expression's own `now()`. */
const OTHER_TIME_FUNCTIONS =
  /\b(?:clock_timestamp|statement_timestamp|transaction_timestamp|timeofday)\s*\(|\b(?:current_timestamp|current_date|current_time|localtimestamp|localtime)\b|'now'/i;
const NOW_CALL = /\bnow\s*\(\s*\)/i;

/**
 * `text` without the one sanctioned use of the server's clock: how long the statement has
 * run (statementElapsedMs, by which the worker sizes its claims), a duration that a pinned
 * test clock must not pin.
 */
const withoutElapsed = (text: string): string =>
  text.split(statementElapsedMs).join('');

/** What is wrong with one statement's use of time (empty: nothing). */
function clockProblems(statement: NamedStatement): string[] {
  const problems: string[] = [];
  const numbers = [...statement.text.matchAll(/\$(\d+)/g)].map((m) =>
    Number(m[1]),
  );
  const highest = Math.max(0, ...numbers);
  let rest = withoutElapsed(statement.text);
  if (statement.clockParameter !== 0) {
    if (statement.clockParameter !== highest)
      problems.push(
        `clock parameter $${statement.clockParameter} is not the last ($${highest})`,
      );
    const before = rest;
    rest = rest.split(clockExpression(statement.clockParameter)).join('');
    if (rest === before)
      problems.push('has a clock parameter but no clock expression');
  }
  if (NOW_CALL.test(rest))
    problems.push('reads now() outside the clock expression');
  const other = OTHER_TIME_FUNCTIONS.exec(rest);
  if (other) problems.push(`reads the time with ${other[0]}`);
  return problems;
}

/** Every NamedStatement in a (nested) object of statements, with its path. */
function statementsOf(
  value: unknown,
  path: string,
): Array<[string, NamedStatement]> {
  if (typeof value !== 'object' || value === null) return [];
  if ('text' in value && 'clockParameter' in value)
    return [[path, value as NamedStatement]];
  return Object.entries(value).flatMap(([key, inner]) =>
    statementsOf(inner, `${path}.${key}`),
  );
}

/** The text of every string and template literal of a TypeScript file (where SQL lives). */
function stringLiterals(path: string): string[] {
  const file = ts.createSourceFile(
    path,
    readFileSync(path, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteralLike(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    )
      found.push(node.text);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

describe('statements and the clock', () => {
  const table = describeJobsTable('public', 'nest_jobs');

  it('named() reads every now() from a clock parameter numbered after the statement’s own', () => {
    const statement = named(
      table,
      'example',
      'UPDATE t SET a = now(), b = NOW( ) + $2 WHERE c < $1',
    );
    expect(statement.clockParameter).toBe(3);
    expect(statement.text).toBe(
      '/* nest-jobs:example */ UPDATE t SET a = COALESCE($3::timestamptz, now()), ' +
        'b = COALESCE($3::timestamptz, now()) + $2 WHERE c < $1',
    );
    expect(clockProblems(statement)).toEqual([]);
    const timeless = named(table, 'timeless', 'SELECT run_now, $1');
    expect(timeless.clockParameter).toBe(0);
    expect(timeless.text).toBe('/* nest-jobs:timeless */ SELECT run_now, $1');
  });

  it('flags a statement that reads the time some other way', () => {
    const bad = (text: string, clockParameter = 0): NamedStatement => ({
      name: 'x',
      text,
      prepared: true,
      clockParameter,
    });
    expect(clockProblems(bad('SELECT clock_timestamp()'))).toEqual([
      'reads the time with clock_timestamp(',
    ]);
    expect(clockProblems(bad('SELECT CURRENT_TIMESTAMP - $1'))).toEqual([
      'reads the time with CURRENT_TIMESTAMP',
    ]);
    expect(clockProblems(bad("SELECT 'now'::timestamptz"))).toEqual([
      "reads the time with 'now'",
    ]);
    expect(clockProblems(bad('SELECT now()'))).toEqual([
      'reads now() outside the clock expression',
    ]);
    // The statement's elapsed time is a duration, allowed as statementElapsedMs only.
    expect(clockProblems(bad(`SELECT ${statementElapsedMs}`))).toEqual([]);
    expect(
      clockProblems(bad('SELECT clock_timestamp() - statement_timestamp()')),
    ).toEqual(['reads the time with clock_timestamp(']);
    expect(
      clockProblems(bad('SELECT COALESCE($1::timestamptz, now()), $2', 1)),
    ).toEqual(['clock parameter $1 is not the last ($2)']);
  });

  it('holds for every statement the package builds', () => {
    const statements = statementsOf(buildJobsQueries(table), 'queries');
    // The walk found the statements, nested ones included.
    expect(statements.length).toBeGreaterThan(30);
    expect(statements.map(([path]) => path)).toContain(
      'queries.deleteFinished.completed',
    );
    const problems = statements.flatMap(([path, statement]) =>
      clockProblems(statement).map((problem) => `${path}: ${problem}`),
    );
    expect(problems).toEqual([]);
    // The hot statements that read the time do so through the clock.
    const clocked = statements
      .filter(([, statement]) => statement.clockParameter > 0)
      .map(([path]) => path);
    expect(clocked).toEqual(
      expect.arrayContaining([
        'queries.claim',
        'queries.complete',
        'queries.fail',
      ]),
    );
  });

  it('no SQL text of the package reads the time except through named()', () => {
    const src = join(PACKAGE_DIR, 'src');
    const problems: string[] = [];
    for (const path of sourceFiles(src)) {
      const file = relative(src, path).split(sep).join('/');
      // DDL: column defaults are the database's own time, by design.
      if (file.startsWith('sql/migrations/')) continue;
      for (const text of stringLiterals(path)) {
        const other = OTHER_TIME_FUNCTIONS.exec(withoutElapsed(text));
        if (other)
          problems.push(
            `${file}: ${other[0]} in ${JSON.stringify(text.slice(0, 80))}`,
          );
        // Statement builders pass their text through named(), which rewrites now().
        if (!file.startsWith('sql/queries/') && NOW_CALL.test(text))
          problems.push(
            `${file}: now() outside a statement builder in ${JSON.stringify(text.slice(0, 80))}`,
          );
      }
    }
    expect(problems).toEqual([]);
  });
});
