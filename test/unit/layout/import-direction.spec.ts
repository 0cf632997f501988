import { describe, expect, it } from '@jest/globals';
import {
  collectImports,
  importDirectionViolations,
  packageNameOf,
  requiredPeersOf,
  type DirectionRules,
  type SourceImports,
} from './layout-rules.js';
import {
  INTEGRATION_FOLDERS,
  readPackageJson,
  readSourceImports,
} from './package-layout.js';

/**
 * Issue 19, point 4: the core never imports an integration. A scan of the imports rather than
 * TypeScript project references: references would need one tsconfig per integration and
 * would catch only relative imports into another project, not a core file importing an
 * optional peer such as `prom-client` directly, which is what breaks a user without it.
 */
describe('import direction', () => {
  const rules: DirectionRules = {
    integrationFolders: INTEGRATION_FOLDERS,
    requiredPeers: ['@nestjs/common', 'typeorm'],
  };

  /** A synthetic source file: its path under src/ and its text. */
  function source(path: string, text: string): SourceImports {
    return { path, imports: collectImports(path, text) };
  }

  it('finds every kind of import, and nothing that only looks like one', () => {
    const text = [
      "import { A } from './a.js';",
      "import type { B } from '@nestjs/common';",
      "import './side-effect.js';",
      "export { C } from '../c.js';",
      "export * from 'typeorm';",
      "const lazy = () => import('prom-client');",
      'const computed = (name: string) => import(name);',
      "type T = typeof import('@opentelemetry/api');",
      "import fs = require('node:fs');",
      "const legacy = require('pg');",
      'const text = "import x from \'not-an-import\'";',
      "// import y from 'neither';",
    ].join('\n');
    expect(collectImports('x.ts', text)).toEqual([
      { kind: 'import', specifier: './a.js', line: 1 },
      { kind: 'import', specifier: '@nestjs/common', line: 2 },
      { kind: 'import', specifier: './side-effect.js', line: 3 },
      { kind: 'export', specifier: '../c.js', line: 4 },
      { kind: 'export', specifier: 'typeorm', line: 5 },
      { kind: 'dynamic import', specifier: 'prom-client', line: 6 },
      { kind: 'dynamic import', specifier: undefined, line: 7 },
      { kind: 'import type node', specifier: '@opentelemetry/api', line: 8 },
      { kind: 'import equals', specifier: 'node:fs', line: 9 },
      { kind: 'require', specifier: 'pg', line: 10 },
    ]);
  });

  it('names the package of a bare specifier', () => {
    expect(packageNameOf('@nestjs/common')).toBe('@nestjs/common');
    expect(packageNameOf('@nestjs/common/decorators/x.js')).toBe(
      '@nestjs/common',
    );
    expect(packageNameOf('typeorm/driver/postgres')).toBe('typeorm');
  });

  it('flags a core file that imports an integration, an optional peer or anything else', () => {
    const files = [
      source(
        'jobs.module.ts',
        [
          "import { X } from './testing/index.js';",
          "import type { Y } from './terminus/jobs.health.js';",
          "export { Z } from './cli/main.js';",
        ].join('\n'),
      ),
      source(
        'worker/jobs.worker.ts',
        [
          "const client = await import('prom-client');",
          "const otel = await import('../opentelemetry/index.js');",
          'const any = (name: string) => import(name);',
          "import { randomUUID } from 'crypto';",
          "import { Test } from '@nestjs/testing';",
          "import { x } from '../../../test/support/jobs-app.js';",
        ].join('\n'),
      ),
    ];
    const violations = importDirectionViolations(files, rules);
    expect(violations).toHaveLength(9);
    expect(violations).toEqual([
      expect.stringMatching(
        /^jobs\.module\.ts:1 \(import\): the core imports '\.\/testing\/index\.js' from the integration testing\//,
      ),
      expect.stringMatching(/^jobs\.module\.ts:2 .*integration terminus\//),
      expect.stringMatching(
        /^jobs\.module\.ts:3 \(export\).*integration cli\//,
      ),
      expect.stringMatching(
        /^worker\/jobs\.worker\.ts:1 \(dynamic import\): the core imports 'prom-client'/,
      ),
      expect.stringMatching(
        /^worker\/jobs\.worker\.ts:2 .*integration opentelemetry\//,
      ),
      expect.stringMatching(/^worker\/jobs\.worker\.ts:3 .*computed specifier/),
      expect.stringMatching(
        /:4 .*'crypto' \(a builtin: import it as 'node:crypto'\)/,
      ),
      expect.stringMatching(
        /:5 .*'@nestjs\/testing'.*required peers \(@nestjs\/common, typeorm\)/,
      ),
      expect.stringMatching(/:6 .*outside src\//),
    ]);
  });

  it('lets the core import core files, node: builtins and required peers, and integrations anything', () => {
    const files = [
      source(
        'worker/jobs.worker.ts',
        [
          "import { Injectable } from '@nestjs/common';",
          "import type { DataSource } from 'typeorm';",
          "import { x } from 'typeorm/driver/postgres/PostgresDriver.js';",
          "import { AsyncLocalStorage } from 'node:async_hooks';",
          "import { JobsRepository } from '../sql/jobs.repository.js';",
          "export { sleep } from '../utils/sleep.js';",
          "const lazy = () => import('./held-attempt.js');",
          // A core folder whose name merely starts like an integration's.
          "import { y } from '../testing-utils/y.js';",
        ].join('\n'),
      ),
      source(
        'prometheus/jobs-metrics.module.ts',
        [
          "import { Counter } from 'prom-client';",
          "import { JobsService } from '../jobs.service.js';",
          "import { helper } from '../testing/helper.js';",
          'const any = (name: string) => import(name);',
        ].join('\n'),
      ),
    ];
    expect(importDirectionViolations(files, rules)).toEqual([]);
  });

  it('holds for packages/nest-jobs/src', () => {
    const sources = readSourceImports();
    // The scan saw the tree, not an empty or wrong folder.
    expect(sources.map((file) => file.path)).toContain('index.ts');
    expect(sources.length).toBeGreaterThan(20);
    expect(
      importDirectionViolations(sources, {
        integrationFolders: INTEGRATION_FOLDERS,
        requiredPeers: requiredPeersOf(readPackageJson()),
      }),
    ).toEqual([]);
  });
});
