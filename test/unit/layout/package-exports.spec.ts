import { describe, expect, it } from '@jest/globals';
import {
  collectImports,
  exportsViolations,
  type PackageJson,
  type PackageLayout,
  type SourceImports,
} from './layout-rules.js';
import {
  ENTRY_FOLDERS,
  readPackageJson,
  readPackageLayout,
} from './package-layout.js';

/**
 * Issue 19, point 5: the sub-path entry points (`nest-jobs/testing`, `nest-jobs/terminus`,
 * `nest-jobs/dashboard`, `nest-jobs/opentelemetry`, `nest-jobs/prometheus`) land one issue at
 * a time; this keeps `exports`, the build and the optional peers in step as they do. The
 * install suite (test/e2e/package) checks the same targets in the packed tarball.
 */
describe('package.json exports', () => {
  function source(path: string, text: string): SourceImports {
    return { path, imports: collectImports(path, text) };
  }

  /** Conditions of an entry whose build output lies at dist/<folder>/index.*. */
  function entry(folder: string) {
    const base = folder ? `./dist/${folder}/index` : './dist/index';
    return {
      types: `${base}.d.ts`,
      import: `${base}.js`,
      default: `${base}.js`,
    };
  }

  /** A package with the real one's shape: the root entry, `testing/` landed with its peer. */
  const goodPackage: PackageJson = {
    main: './dist/index.js',
    types: './dist/index.d.ts',
    exports: {
      '.': entry(''),
      './testing': entry('testing'),
      './package.json': './package.json',
    },
    peerDependencies: {
      '@nestjs/common': '^12.0.0',
      '@nestjs/testing': '^12.0.0',
    },
    peerDependenciesMeta: { '@nestjs/testing': { optional: true } },
    devDependencies: {
      '@nestjs/common': '^12.5.1',
      '@nestjs/testing': '^12.1.1',
    },
  };
  const goodLayout: PackageLayout = {
    builtFiles: new Set(
      ['index', 'jobs.service', 'testing/index', 'testing/helpers'].flatMap(
        (name) => [`dist/${name}.js`, `dist/${name}.d.ts`],
      ),
    ),
    srcFolders: ['worker', 'testing'],
    entryFolders: ENTRY_FOLDERS,
    outDir: 'dist',
    sources: [
      source('index.ts', "export { JobsService } from './jobs.service.js';"),
      source('jobs.service.ts', "import { Injectable } from '@nestjs/common';"),
      source(
        'testing/index.ts',
        "export { drainJobs } from './helpers.js';\nexport { JobsService } from '../index.js';",
      ),
      source('testing/helpers.ts', "import { Test } from '@nestjs/testing';"),
    ],
  };

  it('accepts an entry that lands with its folder, its build output and its optional peer', () => {
    expect(exportsViolations(goodPackage, goodLayout)).toEqual([]);
  });

  it('fails when an entry points at a file the build does not produce', () => {
    const layout = {
      ...goodLayout,
      builtFiles: new Set(
        [...goodLayout.builtFiles].filter(
          (file) => !file.startsWith('dist/testing/'),
        ),
      ),
    };
    expect(exportsViolations(goodPackage, layout)).toEqual([
      'exports "./testing" points at ./dist/testing/index.d.ts, which the build does not produce',
      'exports "./testing" points at ./dist/testing/index.js, which the build does not produce',
    ]);
    const bin = { ...goodPackage, bin: { 'nest-jobs': './dist/cli/main.js' } };
    expect(exportsViolations(bin, goodLayout)).toEqual([
      '"bin" points at ./dist/cli/main.js, which the build does not produce',
    ]);
  });

  it('fails when an entry is not { types, import, default } at dist/<folder>/index', () => {
    const withExports = (testing: unknown): PackageJson => ({
      ...goodPackage,
      exports: { ...goodPackage.exports, './testing': testing },
    });
    const shapes = [
      './dist/testing/index.js',
      {
        import: './dist/testing/index.js',
        types: './dist/testing/index.d.ts',
        default: './dist/testing/index.js',
      },
      { ...entry('testing'), require: './dist/testing/index.cjs' },
      { ...entry('testing'), default: './dist/testing/other.js' },
      entry('worker'),
    ];
    for (const shape of shapes)
      expect(exportsViolations(withExports(shape), goodLayout)).toEqual([
        expect.stringMatching(/^exports "\.\/testing" must /),
      ]);
    expect(
      exportsViolations(
        {
          ...goodPackage,
          exports: {
            ...goodPackage.exports,
            './testing/helpers': entry('testing/helpers'),
          },
        },
        goodLayout,
      ),
    ).toEqual([
      expect.stringMatching(/^exports "\.\/testing\/helpers": an entry is/),
    ]);
    expect(
      exportsViolations({ ...goodPackage, main: './dist/main.js' }, goodLayout),
    ).toEqual([
      expect.stringMatching(/^"main" \(\.\/dist\/main\.js\) must equal/),
    ]);
  });

  it('fails when a folder named like an entry has no exports entry', () => {
    const exports = { ...goodPackage.exports };
    delete exports['./testing'];
    const layout = {
      ...goodLayout,
      srcFolders: ['worker', 'testing', 'prometheus'],
    };
    expect(exportsViolations({ ...goodPackage, exports }, layout)).toEqual([
      'src/testing/ exists but exports has no "./testing" entry (nest-jobs/testing)',
      'src/prometheus/ exists but exports has no "./prometheus" entry (nest-jobs/prometheus)',
      "'@nestjs/testing' is declared an optional peer, but no entry point imports it",
    ]);
  });

  it("fails when an entry's imports use a package that is neither a required nor a declared optional peer", () => {
    const layout = {
      ...goodLayout,
      sources: [
        ...goodLayout.sources.filter(
          (file) => file.path !== 'testing/helpers.ts',
        ),
        source(
          'testing/helpers.ts',
          "import { Test } from '@nestjs/testing';\nconst lazy = () => import('supertest');",
        ),
      ],
    };
    expect(exportsViolations(goodPackage, layout)).toEqual([
      expect.stringMatching(
        /^exports "\.\/testing" reaches testing\/helpers\.ts:2 \(dynamic import\), which imports 'supertest': 'supertest' is neither/,
      ),
    ]);
    const { peerDependenciesMeta: _undeclared, ...required } = goodPackage;
    expect(exportsViolations(required, goodLayout)).toEqual([]); // a required peer is allowed too
    const unlisted = {
      ...goodPackage,
      peerDependencies: { '@nestjs/common': '^12.0.0' },
      peerDependenciesMeta: {},
    };
    expect(exportsViolations(unlisted, goodLayout)).toEqual([
      expect.stringMatching(
        /^exports "\.\/testing" reaches testing\/helpers\.ts:1 .*'@nestjs\/testing' is neither/,
      ),
    ]);
  });

  it('fails on an optional peer that is undeclared, not optional, unused or missing from devDependencies', () => {
    const pkg: PackageJson = {
      ...goodPackage,
      peerDependencies: {
        ...goodPackage.peerDependencies,
        'prom-client': '^15.0.0',
      },
      peerDependenciesMeta: {
        ...goodPackage.peerDependenciesMeta,
        'prom-client': { optional: true },
        '@opentelemetry/api': { optional: true },
        '@nestjs/common': { optional: false },
      },
    };
    expect(exportsViolations(pkg, goodLayout)).toEqual([
      "'prom-client' is declared an optional peer, but no entry point imports it",
      "peerDependenciesMeta names '@opentelemetry/api', which peerDependencies lacks (npm needs its version range there)",
      "'@opentelemetry/api' is declared an optional peer, but no entry point imports it",
      'peerDependenciesMeta \'@nestjs/common\' is not { "optional": true }',
      "peer 'prom-client' is not a devDependency: the build and the tests would not have it",
    ]);
  });

  it('holds for packages/nest-jobs', () => {
    const layout = readPackageLayout();
    // The layout was read from the real build configuration.
    expect(layout.builtFiles).toContain('dist/index.js');
    expect(layout.builtFiles).toContain('dist/index.d.ts');
    expect(exportsViolations(readPackageJson(), layout)).toEqual([]);
  });
});
