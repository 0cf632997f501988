import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import {
  collectImports,
  type PackageJson,
  type PackageLayout,
  type SourceImports,
} from './layout-rules.js';

/** The repository's root folder. */
export const REPO_ROOT = join(
  dirname(fileURLToPath(import.meta.url)),
  '../../..',
);

/** The library's package folder. */
export const PACKAGE_DIR = join(REPO_ROOT, 'packages/nest-jobs');

/**
 * Folders under `src/` that become sub-path entry points (`nest-jobs/<name>`) when they land
 * (layout.md: each with its own issue and, where it needs one, its optional peer).
 */
export const ENTRY_FOLDERS = [
  'testing',
  'terminus',
  'dashboard',
  'opentelemetry',
  'prometheus',
] as const;

/** Folders under `src/` that hold an integration: the entry points and the CLI (a `bin`). */
export const INTEGRATION_FOLDERS = [...ENTRY_FOLDERS, 'cli'] as const;

const toPosix = (path: string) => path.split(sep).join('/');

/** The library's package.json. */
export function readPackageJson(): PackageJson {
  return JSON.parse(
    readFileSync(join(PACKAGE_DIR, 'package.json'), 'utf8'),
  ) as PackageJson;
}

/** The library's tsconfig.json as the build reads it (`tsc -b packages/nest-jobs`). */
function parsedTsconfig(): ts.ParsedCommandLine {
  const configPath = join(PACKAGE_DIR, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error)
    throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  return ts.parseJsonConfigFileContent(
    config,
    ts.sys,
    PACKAGE_DIR,
    undefined,
    configPath,
  );
}

/**
 * The real package, read from its tsconfig and its sources: the files the build produces are
 * what TypeScript says it emits for each input, so the check needs no build to have run.
 */
export function readPackageLayout(): PackageLayout {
  const parsed = parsedTsconfig();
  const builtFiles = new Set<string>();
  for (const input of parsed.fileNames)
    for (const output of ts.getOutputFileNames(parsed, input, false))
      builtFiles.add(toPosix(relative(PACKAGE_DIR, output)));
  const srcDir = join(PACKAGE_DIR, 'src');
  return {
    builtFiles,
    srcFolders: readdirSync(srcDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name),
    entryFolders: ENTRY_FOLDERS,
    sources: readSourceImports(),
    outDir: toPosix(
      relative(PACKAGE_DIR, parsed.options.outDir ?? PACKAGE_DIR),
    ),
  };
}

/** The imports of every `.ts` file under the library's `src/`. */
export function readSourceImports(): SourceImports[] {
  const srcDir = join(PACKAGE_DIR, 'src');
  return readdirSync(srcDir, { recursive: true, encoding: 'utf8' })
    .filter((path) => path.endsWith('.ts'))
    .sort()
    .map((path) => ({
      path: toPosix(path),
      imports: collectImports(path, readFileSync(join(srcDir, path), 'utf8')),
    }));
}
