#!/usr/bin/env node
// Runs the chaos scenarios (test/chaos/*.e2e-spec.ts) on demand, usually larger than in the
// default test run, and prints the figures of each scenario at the end.
//
//   npm run chaos                                  # default sizes (as in `npm test`)
//   npm run chaos -- --jobs 100000                 # every scenario scaled to 100k jobs
//   npm run chaos -- --jobs 20000 --scenario crash-recovery --scenario database-outage
//   npm run chaos -- --mutation complete-unfenced --scenario crash-recovery   # must FAIL
//
// DATABASE_URL is used when set (the database-outage scenario always runs its own embedded
// server); otherwise jest's global setup starts an embedded PostgreSQL. Scenarios run one
// at a time (--runInBand) unless --parallel is given. Figures: test/chaos/results/*.json.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const scenarios = readdirSync(here)
  .filter((file) => file.endsWith('.e2e-spec.ts'))
  .map((file) => file.replace('.e2e-spec.ts', ''));

const usage = `usage: npm run chaos -- [--jobs N] [--scenario NAME]... [--mutation NAME] [--parallel]
scenarios: ${scenarios.join(', ')}`;
const env = { ...process.env };
const chosen = [];
let parallel = false;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i += 1) {
  const [flag, inline] = args[i].split('=', 2);
  const value = () => inline ?? args[++i];
  if (flag === '--jobs') {
    const jobs = Number(value());
    if (!Number.isInteger(jobs) || jobs < 1)
      fail(`--jobs needs a positive integer`);
    env.CHAOS_JOBS = String(jobs);
  } else if (flag === '--scenario') {
    const name = value();
    if (!scenarios.includes(name)) fail(`unknown scenario "${name}"`);
    chosen.push(name);
  } else if (flag === '--mutation') {
    env.CHAOS_MUTATION = value();
  } else if (flag === '--parallel') {
    parallel = true;
  } else if (flag === '--help' || flag === '-h') {
    console.log(usage);
    process.exit(0);
  } else {
    fail(`unknown argument "${args[i]}"`);
  }
}

const files = (chosen.length ? chosen : scenarios).map(
  (name) => `test/chaos/${name}.e2e-spec.ts`,
);
const startedAt = Date.now();
console.log(
  `chaos: ${files.length} scenario(s), ${env.CHAOS_JOBS ? `--jobs ${env.CHAOS_JOBS}` : 'default sizes'}` +
    (env.CHAOS_MUTATION
      ? `, mutation ${env.CHAOS_MUTATION} (the run must fail)`
      : ''),
);
const jest = spawn(
  process.execPath,
  [
    '--experimental-vm-modules',
    join(root, 'node_modules/jest/bin/jest.js'),
    ...(parallel ? [] : ['--runInBand']),
    '--runTestsByPath',
    ...files,
  ],
  { cwd: root, env, stdio: 'inherit' },
);
// Ctrl-C or a SIGTERM of this script stops jest too (its afterAll hooks and the workers'
// IPC watchdog then clean up), instead of leaving it running on its own.
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => jest.kill(signal));
jest.on('close', (code, signal) => {
  const resultsDir = join(here, 'results');
  const lines = existsSync(resultsDir)
    ? readdirSync(resultsDir)
        .filter((file) => file.endsWith('.json'))
        .map((file) => join(resultsDir, file))
        .filter((file) => statSync(file).mtimeMs >= startedAt)
        .map((file) => JSON.parse(readFileSync(file, 'utf8')))
    : [];
  console.log(
    `\nchaos figures (${Math.round((Date.now() - startedAt) / 1000)} s in all; JSON in test/chaos/results/):`,
  );
  for (const { scenario, finishedAt: _at, ...figures } of lines)
    console.log(`  ${scenario}: ${JSON.stringify(figures)}`);
  process.exit(code ?? (signal ? 1 : 0));
});

function fail(message) {
  console.error(`${message}\n${usage}`);
  process.exit(2);
}
