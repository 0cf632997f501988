import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import ts from 'typescript';

/**
 * The rules of the package's layout as pure functions over plain data (file paths, import
 * lists, package.json), so each rule can be shown to fail on a small synthetic case as well
 * as checked on the real package (`package-layout.ts` reads that).
 */

/** How a file refers to a module; every kind puts the module in the shipped package's graph. */
export type ImportKind =
  | 'import'
  | 'export'
  | 'dynamic import'
  | 'import type node'
  | 'import equals'
  | 'require';

/** One module reference found in a source file. */
export interface ImportRef {
  /** The module specifier; `undefined` for a dynamic import of a computed value. */
  readonly specifier: string | undefined;
  readonly kind: ImportKind;
  /** 1-based line of the reference, for messages. */
  readonly line: number;
}

/** The imports of one source file. */
export interface SourceImports {
  /** Posix path relative to the package's `src/`, e.g. `worker/jobs.worker.ts`. */
  readonly path: string;
  readonly imports: readonly ImportRef[];
}

/**
 * Every module reference of a TypeScript file: `import ... from`, `export ... from`, dynamic
 * `import()`, `import('x').T` in types, `import x = require()` and `require()`. Type-only
 * imports count: they end up in the published `.d.ts`, which a user's compiler resolves.
 * Parsed rather than matched with a regular expression, so strings and comments that merely
 * look like imports are not mistaken for them.
 */
export function collectImports(fileName: string, text: string): ImportRef[] {
  const file = ts.createSourceFile(
    fileName,
    text,
    ts.ScriptTarget.Latest,
    true,
    ts.ScriptKind.TS,
  );
  const found: ImportRef[] = [];
  const add = (node: ts.Node, kind: ImportKind, specifier?: ts.Node) => {
    found.push({
      kind,
      specifier:
        specifier && ts.isStringLiteralLike(specifier)
          ? specifier.text
          : undefined,
      line: file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1,
    });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node)) {
      add(node, 'import', node.moduleSpecifier);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
      add(node, 'export', node.moduleSpecifier);
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference)
    ) {
      add(node, 'import equals', node.moduleReference.expression);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      add(
        node,
        'import type node',
        ts.isLiteralTypeNode(argument) ? argument.literal : undefined,
      );
    } else if (ts.isCallExpression(node)) {
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        add(node, 'dynamic import', node.arguments[0]);
      } else if (
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'require' &&
        node.arguments.length === 1
      ) {
        add(node, 'require', node.arguments[0]);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** `./x.js` and `../y` are files of the package; everything else is a package or builtin. */
export function isRelative(specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../');
}

/** The package a bare specifier names: `@nestjs/common/x` → `@nestjs/common`, `a/b` → `a`. */
export function packageNameOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
}

/**
 * The source file a relative specifier of `fromPath` names, relative to `src/` (a result
 * starting with `../` lies outside it). The compiled output imports `./x.js`; its source is
 * `./x.ts`, which is what the other rules look up.
 */
export function resolveRelative(fromPath: string, specifier: string): string {
  const target = posix.normalize(
    posix.join(posix.dirname(fromPath), specifier),
  );
  return target.endsWith('.js') ? `${target.slice(0, -3)}.ts` : target;
}

/** The integration folder (first folder under `src/`) that holds `path`, if any. */
export function integrationOf(
  path: string,
  integrationFolders: readonly string[],
): string | undefined {
  const slash = path.indexOf('/');
  if (slash < 0) return undefined;
  const folder = path.slice(0, slash);
  return integrationFolders.includes(folder) ? folder : undefined;
}

function where(file: SourceImports, ref: ImportRef): string {
  return `${file.path}:${ref.line} (${ref.kind})`;
}

/** What the direction rule allows the core and its integrations. */
export interface DirectionRules {
  /** Folders under `src/` that hold an integration: an entry point, or the CLI. */
  readonly integrationFolders: readonly string[];
  /** The packages the core may import: package.json's required peer dependencies. */
  readonly requiredPeers: readonly string[];
}

/**
 * The core never imports an integration (issue 19, point 4): a file outside the integration
 * folders imports only relative core files, `node:` builtins and the required peers, so
 * `import('nest-jobs')` loads with no optional peer installed and no integration's code
 * runs for a user who did not ask for it. No file, integration or not, imports from outside
 * `src/` (the package ships nothing else). Returns one message per violation.
 */
export function importDirectionViolations(
  files: readonly SourceImports[],
  rules: DirectionRules,
): string[] {
  const violations: string[] = [];
  for (const file of files) {
    const ownIntegration = integrationOf(file.path, rules.integrationFolders);
    for (const ref of file.imports) {
      const at = where(file, ref);
      const specifier = ref.specifier;
      if (specifier === undefined) {
        if (!ownIntegration)
          violations.push(
            `${at}: imports a computed specifier, whose direction cannot be checked`,
          );
        continue;
      }
      if (isRelative(specifier)) {
        const target = resolveRelative(file.path, specifier);
        if (target.startsWith('../')) {
          violations.push(
            `${at}: imports '${specifier}', outside src/ (the package ships only src/ and its build)`,
          );
          continue;
        }
        const targetIntegration = integrationOf(
          target,
          rules.integrationFolders,
        );
        if (!ownIntegration && targetIntegration)
          violations.push(
            `${at}: the core imports '${specifier}' from the integration ${targetIntegration}/: ` +
              'integrations reach the core, never the other way round',
          );
        continue;
      }
      if (ownIntegration || specifier.startsWith('node:')) continue;
      const name = packageNameOf(specifier);
      if (rules.requiredPeers.includes(name)) continue;
      const hint = builtinModules.includes(name)
        ? ` (a builtin: import it as 'node:${name}')`
        : '';
      violations.push(
        `${at}: the core imports '${specifier}'${hint}; it may import only relative core files, ` +
          `node: builtins and the required peers (${rules.requiredPeers.join(', ')})`,
      );
    }
  }
  return violations;
}

/** package.json's fields that the layout rules read. */
export interface PackageJson {
  readonly main?: string;
  readonly types?: string;
  readonly bin?: string | Readonly<Record<string, string>>;
  readonly exports?: Readonly<Record<string, unknown>>;
  readonly peerDependencies?: Readonly<Record<string, string>>;
  readonly peerDependenciesMeta?: Readonly<
    Record<string, { readonly optional?: boolean }>
  >;
  readonly devDependencies?: Readonly<Record<string, string>>;
  readonly dependencies?: Readonly<Record<string, string>>;
}

/**
 * What is always installed beside the package: peer dependencies without `optional: true`
 * in peerDependenciesMeta, and its own runtime dependencies (croner).
 */
export function requiredPeersOf(pkg: PackageJson): string[] {
  return [
    ...Object.keys(pkg.peerDependencies ?? {}).filter(
      (name) => pkg.peerDependenciesMeta?.[name]?.optional !== true,
    ),
    ...Object.keys(pkg.dependencies ?? {}),
  ];
}

/** Peer dependencies declared `optional: true` in peerDependenciesMeta. */
export function optionalPeersOf(pkg: PackageJson): string[] {
  return Object.entries(pkg.peerDependenciesMeta ?? {})
    .filter(([, meta]) => meta.optional === true)
    .map(([name]) => name);
}

/** What the exports rules know of the package besides its package.json. */
export interface PackageLayout {
  /** Every file the build writes, relative to the package (`dist/index.js`, ...). */
  readonly builtFiles: ReadonlySet<string>;
  /** The folders directly under `src/`. */
  readonly srcFolders: readonly string[];
  /** Folders that, once they exist under `src/`, are sub-path entry points (`nest-jobs/<name>`). */
  readonly entryFolders: readonly string[];
  /** The imports of every file under `src/`. */
  readonly sources: readonly SourceImports[];
  /** The build's output folder, relative to the package (tsconfig `outDir`). */
  readonly outDir: string;
}

const CONDITIONS = ['types', 'import', 'default'];

/** The source folder an exports key names: `.` → the root, `./testing` → `testing`. */
function entryFolderOf(key: string): string {
  return key === '.' ? '' : key.slice(2);
}

/**
 * The sub-path entry points (issue 19, point 5). Each `exports` key other than
 * `./package.json` is `.` or `./<folder>` and maps, with exactly the conditions `types`,
 * `import` and `default` (in that order: TypeScript takes the first condition that matches),
 * to `<outDir>/<folder>/index.js` and its `.d.ts`, which the build must produce; `main` and
 * `types` repeat the root entry for older tools; `bin` targets are built files too. Every
 * folder under `src/` named like an entry has one. An entry imports, through every file it
 * reaches, only the required peers and the optional peers declared in peerDependenciesMeta;
 * an optional peer is imported by some entry (so none is declared before its entry lands),
 * and every peer is a devDependency too, so the build and the tests have it.
 */
export function exportsViolations(
  pkg: PackageJson,
  layout: PackageLayout,
): string[] {
  const violations: string[] = [];
  const built = (target: string) =>
    layout.builtFiles.has(posix.normalize(target));
  const exportsMap = pkg.exports ?? {};
  const entries = new Map<string, string>();
  if (!pkg.exports)
    violations.push('package.json has no "exports": add the "." entry');

  for (const [key, value] of Object.entries(exportsMap)) {
    if (key === './package.json') {
      if (value !== './package.json')
        violations.push(`exports "${key}" must be "./package.json"`);
      continue;
    }
    const folder = entryFolderOf(key);
    if (key !== '.' && (!key.startsWith('./') || folder.includes('/'))) {
      violations.push(
        `exports "${key}": an entry is "." or "./<folder under src/>"`,
      );
      continue;
    }
    // Known from its key even when malformed, so its imports are still checked.
    entries.set(key, folder);
    const expected = posix.join(layout.outDir, folder, 'index.js');
    if (
      typeof value !== 'object' ||
      value === null ||
      Object.keys(value).join() !== CONDITIONS.join()
    ) {
      violations.push(
        `exports "${key}" must be { "types", "import", "default" } in that order, ` +
          `e.g. { "types": "./${expected.replace(/\.js$/, '.d.ts')}", "import": "./${expected}", "default": "./${expected}" }`,
      );
      continue;
    }
    const conditions = value as Record<string, unknown>;
    const { types, import: esm, default: fallback } = conditions;
    if (
      typeof esm !== 'string' ||
      typeof types !== 'string' ||
      posix.normalize(esm) !== expected ||
      fallback !== esm ||
      types !== esm.replace(/\.js$/, '.d.ts')
    ) {
      violations.push(
        `exports "${key}" must point "import" and "default" at ./${expected} and "types" at its .d.ts ` +
          `(found ${JSON.stringify(conditions)})`,
      );
      continue;
    }
    for (const target of [types, esm])
      if (!built(target))
        violations.push(
          `exports "${key}" points at ${target}, which the build does not produce`,
        );
  }

  const root = exportsMap['.'] as Record<string, unknown> | undefined;
  if (root && typeof root === 'object') {
    if (pkg.main !== root['import'])
      violations.push(
        `"main" (${pkg.main}) must equal exports "." import (${String(root['import'])})`,
      );
    if (pkg.types !== root['types'])
      violations.push(
        `"types" (${pkg.types}) must equal exports "." types (${String(root['types'])})`,
      );
  }
  const bins =
    typeof pkg.bin === 'string' ? [pkg.bin] : Object.values(pkg.bin ?? {});
  for (const target of bins)
    if (!built(target))
      violations.push(
        `"bin" points at ${target}, which the build does not produce`,
      );

  for (const folder of layout.entryFolders)
    if (layout.srcFolders.includes(folder) && !entries.has(`./${folder}`))
      violations.push(
        `src/${folder}/ exists but exports has no "./${folder}" entry (nest-jobs/${folder})`,
      );

  const required = requiredPeersOf(pkg);
  const optional = optionalPeersOf(pkg);
  const usedOptional = new Set<string>();
  for (const [key, folder] of entries) {
    const index = posix.join(folder, 'index.ts');
    for (const { file, ref, name } of packagesReachedFrom(
      index,
      layout.sources,
    )) {
      if (required.includes(name)) continue;
      if (optional.includes(name)) {
        usedOptional.add(name);
        continue;
      }
      violations.push(
        `exports "${key}" reaches ${where(file, ref)}, which imports '${ref.specifier}': ` +
          `'${name}' is neither a required peer nor an optional one (peerDependencies + ` +
          `peerDependenciesMeta { "optional": true })`,
      );
    }
  }
  for (const [name, meta] of Object.entries(pkg.peerDependenciesMeta ?? {})) {
    if (!pkg.peerDependencies?.[name])
      violations.push(
        `peerDependenciesMeta names '${name}', which peerDependencies lacks (npm needs its version range there)`,
      );
    if (meta.optional !== true)
      violations.push(
        `peerDependenciesMeta '${name}' is not { "optional": true }`,
      );
    else if (!usedOptional.has(name))
      violations.push(
        `'${name}' is declared an optional peer, but no entry point imports it`,
      );
  }
  for (const name of Object.keys(pkg.peerDependencies ?? {}))
    if (!pkg.devDependencies?.[name])
      violations.push(
        `peer '${name}' is not a devDependency: the build and the tests would not have it`,
      );
  return violations;
}

/** Every bare package import of the files `start` reaches through relative imports. */
function packagesReachedFrom(
  start: string,
  sources: readonly SourceImports[],
): Array<{ file: SourceImports; ref: ImportRef; name: string }> {
  const byPath = new Map(sources.map((file) => [file.path, file]));
  const seen = new Set<string>();
  const queue = [start];
  const found: Array<{ file: SourceImports; ref: ImportRef; name: string }> =
    [];
  while (queue.length > 0) {
    const path = queue.pop()!;
    const file = byPath.get(path);
    if (!file || seen.has(path)) continue;
    seen.add(path);
    for (const ref of file.imports) {
      const specifier = ref.specifier;
      if (specifier === undefined || specifier.startsWith('node:')) continue;
      if (isRelative(specifier))
        queue.push(resolveRelative(file.path, specifier));
      else found.push({ file, ref, name: packageNameOf(specifier) });
    }
  }
  return found;
}
