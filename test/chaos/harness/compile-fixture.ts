import {
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '../fixture');
const OUT_DIR = join(FIXTURE_DIR, 'dist');

/** The compiled entry point of a worker process. */
export const WORKER_MAIN = join(OUT_DIR, 'worker-main.js');

/**
 * Compiles fixture/*.ts to fixture/dist/*.js (git-ignored), transpile-only, as ts-jest does
 * for the tests: `npx tsc -p test --noEmit` type-checks the fixture with everything else.
 * Node has no TypeScript loader here, and the fixture runs in child processes. Each file is
 * written to a temporary name and renamed, so two test files compiling at once (jest runs
 * two in parallel) never expose a half-written file.
 */
export function compileFixture(): string {
  mkdirSync(OUT_DIR, { recursive: true });
  for (const file of readdirSync(FIXTURE_DIR)) {
    if (!file.endsWith('.ts') || file.endsWith('.d.ts')) continue;
    const source = readFileSync(join(FIXTURE_DIR, file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ES2022,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
        esModuleInterop: true,
        inlineSourceMap: true,
        inlineSources: true,
      },
    });
    const target = join(OUT_DIR, file.replace(/\.ts$/, '.js'));
    const temporary = `${target}.${process.pid}.tmp`;
    writeFileSync(temporary, outputText);
    renameSync(temporary, target);
  }
  return WORKER_MAIN;
}
