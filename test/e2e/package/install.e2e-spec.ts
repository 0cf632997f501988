import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  accessSync,
  constants,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  otherConnections,
  type TestDatabase,
} from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';
import {
  cleanEnv,
  installApp,
  installCommands,
  packLibrary,
  PACKAGE_DIR,
  REPO_ROOT,
  run,
  type InstallSpec,
  type PackedLibrary,
} from './consumer-install.js';

const CONSUMER_APP = join(
  dirname(fileURLToPath(import.meta.url)),
  'consumer-app',
);

/** Minutes, not seconds: each install may fall back to the registry for a missing package. */
const SETUP_TIMEOUT_MS = 10 * 60_000;

interface LibraryManifest {
  name: string;
  exports: Record<string, string | Record<string, string>>;
  main: string;
  types: string;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const library = JSON.parse(
  readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8'),
) as LibraryManifest;
const readme = readFileSync(join(PACKAGE_DIR, 'README.md'), 'utf8');
const [peersCommand = [], optionalCommand = []] = installCommands(readme);
const optionalPeers = Object.entries(library.peerDependenciesMeta ?? {})
  .filter(([, meta]) => meta.optional === true)
  .map(([name]) => name);

/** package.json dependencies for the packages of an install command of the README. */
function dependenciesOf(
  specs: readonly InstallSpec[],
  tarball: string,
): Record<string, string> {
  return Object.fromEntries(
    specs.map(({ name, range }) => [
      name,
      name === library.name ? `file:${tarball}` : range!,
    ]),
  );
}

/**
 * Where the throw-away applications go: /dev/shm (memory) where there is one. Their two
 * node_modules hold some 16,000 files; deleting them from the disk took 10 to 25 s while
 * other suites' PostgreSQL databases were syncing to the same disk, from memory 0.2 s.
 */
function scratchDir(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((file) =>
    file.split('\\').join('/'),
  );
}

/**
 * Issue 19, point 6: nest-jobs as a user gets it. The library is packed (from the build
 * `npm test` made), installed into new applications in a temporary folder outside the
 * workspace, with the versions of the README's Installation section, and used there: one
 * folder with the required peers only (no optional peer), one Nest application compiled with
 * tsc and run against a database of its own. The installs come from the npm cache that
 * `npm ci` filled (see lockfileFor).
 */
describe('the packed package, installed as a user would', () => {
  let work: string;
  let packed: PackedLibrary;
  /** A folder with nest-jobs and its required peers only. */
  let bare: string;
  /** A Nest application: the required peers, @nestjs/typeorm, TypeScript. */
  let app: string;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    const started = Date.now();
    if (!existsSync(join(PACKAGE_DIR, 'dist/index.js')))
      throw new Error(
        'packages/nest-jobs/dist is missing: build first (npm test does: npm run build)',
      );
    work = realpathSync(mkdtempSync(join(scratchDir(), 'nest-jobs-install-')));
    // Inside the workspace, npm would install into the workspace instead.
    expect(relative(REPO_ROOT, work).startsWith('..')).toBe(true);
    packed = await packLibrary(work);
    timings['pack'] = Date.now() - started;

    bare = join(work, 'bare');
    app = join(work, 'app');
    mkdirSync(bare);
    cpSync(CONSUMER_APP, app, { recursive: true });
    const tarball = (dir: string) => relative(dir, packed.path);
    const workspace = JSON.parse(
      readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'),
    ) as { devDependencies: Record<string, string> };
    // One after the other: at once they would take both cores from the suites that jest
    // runs beside this one (the chaos suites work to deadlines).
    timings['install (required peers only)'] = await installApp(
      bare,
      {
        name: 'nest-jobs-bare',
        dependencies: dependenciesOf(peersCommand, tarball(bare)),
      },
      packed,
    );
    timings['install (app)'] = await installApp(
      app,
      {
        name: 'nest-jobs-consumer',
        dependencies: dependenciesOf(
          [...peersCommand, ...optionalCommand],
          tarball(app),
        ),
        devDependencies: {
          typescript: workspace.devDependencies['typescript']!,
          '@types/node': workspace.devDependencies['@types/node']!,
        },
      },
      packed,
    );
    timings['set-up'] = Date.now() - started;
  }, SETUP_TIMEOUT_MS);

  afterAll(() => {
    const started = Date.now();
    if (work) rmSync(work, { recursive: true, force: true });
    timings['clean-up'] = Date.now() - started;
    // How long each step took, for whoever wonders why the suite is slow.
    console.log(
      `install suite (ms): ${Object.entries(timings)
        .map(([step, ms]) => `${step} ${ms}`)
        .join(', ')}`,
    );
  });

  it("names every required peer in the README's Installation, with package.json's range", () => {
    const required = Object.keys(library.peerDependencies).filter(
      (name) => !optionalPeers.includes(name),
    );
    expect(peersCommand[0]).toEqual({ name: library.name, range: undefined });
    expect(
      Object.fromEntries(
        peersCommand.slice(1).map(({ name, range }) => [name, range]),
      ),
    ).toEqual(
      Object.fromEntries(
        required.map((name) => [name, library.peerDependencies[name]]),
      ),
    );
    // The second command: what the README's examples (and the consumer app) use besides.
    expect(optionalCommand.map(({ name }) => name)).toContain(
      '@nestjs/typeorm',
    );
    for (const { range } of optionalCommand) expect(range).toBeDefined();
  });

  it('ships the README, LICENSE, CHANGELOG, the build and its sources, and no tsbuildinfo', () => {
    for (const file of [
      'package.json',
      'README.md',
      'LICENSE',
      'CHANGELOG.md',
      'dist/index.js',
      'dist/index.d.ts',
      'src/index.ts',
    ])
      expect(packed.files).toContain(file);
    expect(
      packed.files.filter((file) => file.endsWith('.tsbuildinfo')),
    ).toEqual([]);
    expect(
      packed.files.filter((file) => !/^(dist|src)\//.test(file)).sort(),
    ).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'package.json']);
  });

  it('holds every file that exports, main and types point at', () => {
    const targets = [library.main, library.types];
    for (const value of Object.values(library.exports))
      targets.push(
        ...(typeof value === 'string' ? [value] : Object.values(value)),
      );
    for (const target of targets)
      expect(packed.files).toContain(target.replace(/^\.\//, ''));
  });

  it('resolves every source map: each sources entry of each .js.map and .d.ts.map is in the package', () => {
    const installed = join(bare, 'node_modules', library.name);
    const files = filesUnder(installed);
    const maps = files.filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(10);
    expect(maps).toContain('dist/index.d.ts.map');
    const unresolved: string[] = [];
    for (const map of maps) {
      const { sources, sourceRoot = '' } = JSON.parse(
        readFileSync(join(installed, map), 'utf8'),
      ) as { sources: string[]; sourceRoot?: string };
      for (const source of sources) {
        const path = resolve(installed, dirname(map), sourceRoot, source);
        if (relative(installed, path).startsWith('..') || !existsSync(path))
          unresolved.push(`${map} → ${source}`);
      }
    }
    // And each compiled file's sourceMappingURL names a map that is there.
    for (const file of files.filter((file) => /\.(js|d\.ts)$/.test(file))) {
      const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(
        readFileSync(join(installed, file), 'utf8'),
      )?.[1];
      if (url && !existsSync(join(installed, dirname(file), url)))
        unresolved.push(`${file} → ${url}`);
    }
    expect(unresolved).toEqual([]);
  });

  it("loads with import('nest-jobs') where no optional peer is installed", async () => {
    for (const peer of optionalPeers)
      expect(existsSync(join(bare, 'node_modules', peer))).toBe(false);
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '--eval',
        "const m = await import('nest-jobs'); console.log(JSON.stringify(Object.keys(m).sort()));",
      ],
      { cwd: bare, timeoutMs: 30_000 },
    );
    expect(JSON.parse(stdout)).toEqual(
      expect.arrayContaining(['Job', 'JobsModule', 'JobsService']),
    );
  });

  it('loads nest-jobs/testing where its optional peer @nestjs/testing is not installed (only its types name it)', async () => {
    expect(optionalPeers).toContain('@nestjs/testing');
    expect(existsSync(join(bare, 'node_modules', '@nestjs/testing'))).toBe(
      false,
    );
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '--eval',
        "const m = await import('nest-jobs/testing'); console.log(JSON.stringify(Object.keys(m).sort()));",
      ],
      { cwd: bare, timeoutMs: 30_000 },
    );
    expect(JSON.parse(stdout)).toEqual(
      expect.arrayContaining(['JobsTesting', 'withManualWorker', 'TestClock']),
    );
  });

  describe('in a new Nest application', () => {
    let db: TestDatabase;

    beforeAll(async () => {
      db = await createTestDatabase('install');
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('compiles with tsc (strict, NodeNext, decorators)', async () => {
      const started = Date.now();
      await run(
        process.execPath,
        [join(app, 'node_modules/typescript/bin/tsc'), '-p', app],
        { cwd: app, timeoutMs: 180_000 },
      );
      timings['tsc'] = Date.now() - started;
      expect(existsSync(join(app, 'dist/main.js'))).toBe(true);
    }, 200_000);

    it('boots on PostgreSQL, runs one job through its handler and shuts down by itself', async () => {
      const started = Date.now();
      // The app's own watchdog ends it 5 s after app.close() if it stays alive; the
      // timeout here only guards a hang before that.
      const { stdout, stderr } = await run(
        process.execPath,
        ['--enable-source-maps', join(app, 'dist/main.js')],
        {
          cwd: app,
          timeoutMs: 60_000,
          env: cleanEnv({ DATABASE_URL: db.url }),
        },
      );
      timings['app run'] = Date.now() - started;
      expect(stderr).toBe('');
      const { id, greeting } = JSON.parse(stdout.trim().split('\n').pop()!) as {
        id: string;
        greeting: string;
      };
      expect(greeting).toBe(`Hello, Ada (job ${id}, attempt 1)`);
      const rows = await db.query<{
        job_type: string;
        queue: string;
        status: string;
        attempts: number;
      }>(
        'SELECT job_type, queue, status, attempts FROM nest_jobs WHERE id = $1',
        [id],
      );
      expect(rows).toEqual([
        {
          job_type: 'Greeter.greet',
          queue: 'greetings',
          status: 'completed',
          attempts: 1,
        },
      ]);
      await waitFor(
        'the application to have no connection left',
        async () => (await otherConnections(db)).length === 0,
      );
    }, 90_000);
  });
});
