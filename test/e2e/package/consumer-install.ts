import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What the install suite does as a user would: pack the library, write a new application's
 * package.json, install. Kept apart from the suite so the suite reads as the user's steps.
 */

export const REPO_ROOT = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../..',
);
export const PACKAGE_DIR = join(REPO_ROOT, 'packages/nest-jobs');

/**
 * The environment for npm and the application: this one without the variables `npm test`
 * exports to its script (`npm_config_local_prefix` would point a nested npm at the
 * workspace, `npm_package_*` describe the workspace), but with where the cache and the
 * registry are, so the installs find what `npm ci` left in the cache.
 */
export function cleanEnv(
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const keep = new Set([
    'npm_config_cache',
    'npm_config_registry',
    'npm_config_userconfig',
    'npm_config_globalconfig',
    'npm_config_cafile',
    'npm_config_offline',
  ]);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.toLowerCase().startsWith('npm_') || keep.has(name))
      env[name] = value;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Output of a finished command. */
export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command to its end, or kills it (SIGKILL) at `timeoutMs`: nothing it started is
 * left running. A failure's message carries the command's output, the only clue a CI log has.
 */
export function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        cwd: options.cwd,
        env: options.env ?? cleanEnv(),
        timeout: options.timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 32 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const how = error.killed
          ? `was killed after ${options.timeoutMs} ms`
          : `failed (exit code ${String(error.code)})`;
        reject(
          new Error(
            `${command} ${args.join(' ')} in ${options.cwd} ${how}\n` +
              `--- stdout\n${tail(stdout)}\n--- stderr\n${tail(stderr)}`,
          ),
        );
      },
    );
  });
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** The tarball `npm pack` made. */
export interface PackedLibrary {
  /** Absolute path of the .tgz. */
  readonly path: string;
  readonly name: string;
  readonly version: string;
  /** sha512 of the tarball, as a lockfile records it. */
  readonly integrity: string;
  /** Every path in the tarball, relative to the package (`dist/index.js`, `README.md`, ...). */
  readonly files: readonly string[];
}

/**
 * Packs the library into `destination` from the build that `npm test` has just made.
 * `--ignore-scripts` skips `prepack` (a build), which would race the other suites that load
 * `dist/` at the same time and hide a missing build behind a fresh one.
 */
export async function packLibrary(destination: string): Promise<PackedLibrary> {
  const { stdout } = await run(
    'npm',
    ['pack', '--ignore-scripts', '--json', '--pack-destination', destination],
    { cwd: PACKAGE_DIR, timeoutMs: 60_000 },
  );
  const [packed] = JSON.parse(stdout) as Array<{
    name: string;
    version: string;
    filename: string;
    integrity: string;
    files: Array<{ path: string }>;
  }>;
  return {
    path: join(destination, packed!.filename),
    name: packed!.name,
    version: packed!.version,
    integrity: packed!.integrity,
    files: packed!.files.map((file) => file.path),
  };
}

/** A package of an `npm install` command: `pg@^8.11.0` → `{ name: 'pg', range: '^8.11.0' }`. */
export interface InstallSpec {
  readonly name: string;
  readonly range: string | undefined;
}

/**
 * The `npm install` commands of a markdown document's "## Installation" section, in order,
 * each as the packages it names (options and `# comments` left out).
 */
export function installCommands(markdown: string): InstallSpec[][] {
  const section = /^## Installation\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(
    markdown,
  );
  if (!section) return [];
  const commands: InstallSpec[][] = [];
  for (const [, block] of section[1]!.matchAll(/```\w*\n([\s\S]*?)```/g))
    for (const line of block!.split('\n')) {
      const words = line.replace(/#.*$/, '').trim().split(/\s+/);
      if (words[0] !== 'npm' || words[1] !== 'install') continue;
      commands.push(
        words
          .slice(2)
          .filter((word) => !word.startsWith('-'))
          .map((word) => {
            const at = word.lastIndexOf('@');
            return at > 0
              ? { name: word.slice(0, at), range: word.slice(at + 1) }
              : { name: word, range: undefined };
          }),
      );
    }
  return commands;
}

interface LockEntry {
  version?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [field: string]: unknown;
}

/** The package.json fields of a throw-away application. */
export interface AppManifest {
  name: string;
  dependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
}

/**
 * A package-lock.json for a new application, cut from the workspace's lockfile: the packages
 * its dependencies reach, at the versions `npm ci` installed (and so left in the npm cache),
 * plus the packed library. Without it, npm resolves every range anew, which needs the full
 * registry documents: `npm ci` caches only the abbreviated ones, so a fresh CI machine would
 * fetch ~65 documents and, for any newer release, its tarball. With it, an install takes
 * everything from the cache, and the versions are those the rest of the suite tests.
 * A range the workspace's version does not satisfy makes npm resolve that package as usual.
 */
export function lockfileFor(
  appDir: string,
  manifest: AppManifest,
  library: PackedLibrary,
): object {
  const workspace = JSON.parse(
    readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8'),
  ) as { packages: Record<string, LockEntry> };
  const lock = workspace.packages;
  const libraryManifest = JSON.parse(
    readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8'),
  ) as LockEntry & { name: string; license?: string; engines?: object };

  /** Node's lookup: the nearest node_modules/<name> from `from` up to the root. */
  const locate = (from: string, name: string): string | undefined => {
    for (let at = from; ;) {
      const key = at ? `${at}/node_modules/${name}` : `node_modules/${name}`;
      if (lock[key] && !lock[key]!.link) return key;
      if (!at) return undefined;
      const parent = at.lastIndexOf('/node_modules/');
      at = parent < 0 ? '' : at.slice(0, parent);
    }
  };

  const packages: Record<string, LockEntry> = {};
  const queue = [
    ...Object.keys(manifest.dependencies),
    ...Object.keys(manifest.devDependencies ?? {}),
    ...Object.keys(libraryManifest.dependencies ?? {}),
  ]
    .filter((name) => name !== library.name)
    .map((name) => locate('', name))
    .filter((key): key is string => key !== undefined);
  while (queue.length > 0) {
    const key = queue.pop()!;
    if (packages[key]) continue;
    // Whether a package is dev, optional or a peer in the workspace says nothing of the app.
    const { dev: _d, devOptional: _o, peer: _p, ...entry } = lock[key]!;
    packages[key] = entry;
    const optionalPeer = (name: string) =>
      entry.peerDependenciesMeta?.[name]?.optional === true;
    for (const name of [
      ...Object.keys(entry.dependencies ?? {}),
      ...Object.keys(entry.optionalDependencies ?? {}),
      ...Object.keys(entry.peerDependencies ?? {}).filter(
        (name) => !optionalPeer(name),
      ),
    ]) {
      const found = locate(key, name);
      if (found) queue.push(found);
    }
  }

  const tarball = relative(appDir, library.path);
  packages[`node_modules/${library.name}`] = {
    version: library.version,
    resolved: `file:${tarball}`,
    integrity: library.integrity,
    license: libraryManifest.license,
    ...pick(libraryManifest, [
      'dependencies',
      'engines',
      'peerDependencies',
      'peerDependenciesMeta',
    ]),
  };
  return {
    name: manifest.name,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': {
        name: manifest.name,
        dependencies: manifest.dependencies,
        devDependencies: manifest.devDependencies,
      },
      ...Object.fromEntries(
        Object.entries(packages).sort(([a], [b]) => a.localeCompare(b)),
      ),
    },
  };
}

function pick(source: object, fields: readonly string[]): object {
  return Object.fromEntries(
    Object.entries(source).filter(([field]) => fields.includes(field)),
  );
}

/**
 * Writes a new application's package.json (ESM, as the README asks) and lockfile into
 * `appDir` and installs them with npm, from the cache where it can
 * (`--prefer-offline`). Returns how long the install took, in ms.
 */
export async function installApp(
  appDir: string,
  manifest: AppManifest,
  library: PackedLibrary,
): Promise<number> {
  writeFileSync(
    join(appDir, 'package.json'),
    JSON.stringify({ ...manifest, private: true, type: 'module' }, null, 2),
  );
  writeFileSync(
    join(appDir, 'package-lock.json'),
    JSON.stringify(lockfileFor(appDir, manifest, library), null, 2),
  );
  const started = Date.now();
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
    cwd: appDir,
    timeoutMs: 300_000,
  });
  return Date.now() - started;
}
