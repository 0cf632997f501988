import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from './package-layout.js';

/**
 * Relative links of a markdown text whose target does not exist. Targets are resolved from
 * the document's folder, as GitHub does, so the package README's links into `docs/` and
 * `apps/demo` (`../../docs/...`) work from `packages/nest-jobs/README.md`.
 */
function brokenLinks(
  markdown: string,
  documentDir: string,
  exists: (path: string) => boolean,
): string[] {
  const broken: string[] = [];
  for (const [, target] of markdown.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/i.test(target!) || target!.startsWith('#')) continue;
    const path = join(documentDir, target!.replace(/#.*$/, ''));
    if (relative(REPO_ROOT, path).startsWith('..') || !exists(path))
      broken.push(target!);
  }
  return broken;
}

/** The documents the package layout moved text between (issue 19, point 6). */
const DOCUMENTS = [
  'README.md',
  'packages/nest-jobs/README.md',
  'packages/nest-jobs/CHANGELOG.md',
];

describe('README links', () => {
  it('finds relative links whose target is missing or outside the repository', () => {
    const markdown =
      '[ok](../../docs/a.md) [gone](../../docs/b.md#part) [web](https://example.org) ' +
      '[here](#usage) [outside](../../../elsewhere.md)';
    const existing = [
      join(REPO_ROOT, 'docs/a.md'),
      join(REPO_ROOT, '../elsewhere.md'),
    ];
    expect(
      brokenLinks(markdown, join(REPO_ROOT, 'packages/nest-jobs'), (path) =>
        existing.includes(path),
      ),
    ).toEqual(['../../docs/b.md#part', '../../../elsewhere.md']);
  });

  it.each(DOCUMENTS)('%s links only to files that exist', (document) => {
    const path = join(REPO_ROOT, document);
    const markdown = readFileSync(path, 'utf8');
    expect(markdown).toMatch(/\]\(/);
    expect(brokenLinks(markdown, dirname(path), existsSync)).toEqual([]);
  });
});
