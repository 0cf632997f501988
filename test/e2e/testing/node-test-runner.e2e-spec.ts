import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { useJobsSuite } from '../../support/jobs-suite.js';

const run = promisify(execFile);
const FIXTURE = join(
  dirname(fileURLToPath(import.meta.url)),
  'fixtures/node-test-runner.test.mjs',
);

/**
 * nest-jobs/testing needs no test framework (issue 24, point 6): a node:test file (plain
 * JavaScript, no jest in its process) boots an app with the manual worker and uses drain,
 * expectEnqueued, a failed assertion and the clock.
 */
describe('nest-jobs/testing under node:test', () => {
  const { db } = useJobsSuite('testing_node_test');

  it('runs a node:test file that uses the helpers, and its three tests pass', async () => {
    const { stdout } = await run(
      process.execPath,
      ['--test', '--test-reporter=tap', FIXTURE],
      { env: { ...process.env, DATABASE_URL: db.url }, timeout: 60_000 },
    ).catch((error: { stdout?: string; stderr?: string }) => {
      throw new Error(
        `node --test failed:\n${error.stdout ?? ''}\n${error.stderr ?? ''}`,
      );
    });
    expect(stdout).toMatch(/^# pass 3$/m);
    expect(stdout).toMatch(/^# fail 0$/m);
  });
});
