import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { setTimeout as letTicksPass } from 'node:timers/promises';
import { compileFixture } from '../../chaos/harness/compile-fixture.js';
import {
  createTestDatabase,
  type TestDatabase,
} from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

/**
 * Several application processes tick the same per-second schedules while the test kills
 * them with SIGKILL (between and during ticks): every occurrence is enqueued exactly once,
 * and only the occurrences of a time when no instance ran are lost, and only by the
 * schedule whose missed policy is `skip`.
 */
describe('recurring jobs across processes: once per occurrence, no leader', () => {
  let db: TestDatabase;
  let instanceMain: string;
  const running = new Set<ChildProcess>();
  let started = 0;

  beforeAll(async () => {
    db = await createTestDatabase('cron_cluster');
    instanceMain = join(dirname(compileFixture()), 'cron-instance-main.js');
  });

  afterAll(async () => {
    for (const child of running) child.kill('SIGKILL');
    await db.drop();
  });

  /** Starts an instance; resolves once it ticks (its ready line). */
  async function startInstance(): Promise<ChildProcess> {
    started += 1;
    const child = spawn(process.execPath, [instanceMain], {
      env: {
        ...process.env,
        CRON_DATABASE_URL: db.url,
        CRON_INSTANCE: String(started),
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    running.add(child);
    child.once('exit', () => running.delete(child));
    let output = '';
    child.stderr!.on('data', (chunk) => (output += String(chunk)));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk) => {
        output += String(chunk);
        if (output.includes('CRON-READY')) resolve();
      });
      child.once('exit', (code, signal) =>
        reject(
          new Error(
            `instance exited (${code ?? signal}) before ready:\n${output}`,
          ),
        ),
      );
    });
    return child;
  }

  function killHard(child: ChildProcess): Promise<void> {
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  const occurrences = async (schedule: string): Promise<number[]> =>
    (
      await db.query<{ ms: number }>(
        `SELECT (extract(epoch FROM run_at) * 1000)::float8 AS ms FROM nest_jobs
         WHERE unique_key LIKE $1 ORDER BY run_at`,
        [`%|k:s:${schedule}@%`],
      )
    ).map((row) => Number(row.ms));

  const missingBetween = (times: number[]): number[] => {
    const missing: number[] = [];
    for (let i = 1; i < times.length; i += 1)
      for (let t = times[i - 1]! + 1000; t < times[i]!; t += 1000)
        missing.push(t);
    return missing;
  };

  it('three instances, SIGKILLed and replaced one by one, then all at once', async () => {
    const first = await startInstance();
    const instances = [
      first,
      ...(await Promise.all([startInstance(), startInstance()])),
    ];
    // Phase 1: one instance at a time is killed and replaced; two always tick.
    for (let round = 0; round < 5; round += 1) {
      // The kill lands at varying points of the ticks (some inside a tick's transaction).
      await letTicksPass(700 + round * 150);
      const victim = instances.splice(round % instances.length, 1)[0]!;
      await killHard(victim);
      instances.push(await startInstance());
    }
    // Phase 2: every instance dies; nothing ticks for some seconds.
    const outageStart = Date.now();
    await Promise.all(instances.splice(0).map(killHard));
    await letTicksPass(3_500);
    instances.push(...(await Promise.all([startInstance(), startInstance()])));
    const backAt = Date.now();
    await waitFor(
      'both schedules to enqueue after the outage',
      async () => {
        const [all, skip] = [
          await occurrences('beat-all'),
          await occurrences('beat-skip'),
        ];
        return all.at(-1)! > backAt + 2_000 && skip.at(-1)! > backAt + 2_000;
      },
      { timeoutMs: 20_000 },
    );
    await Promise.all(instances.splice(0).map(killHard));

    const all = await occurrences('beat-all');
    const skip = await occurrences('beat-skip');
    // Exactly once: no occurrence twice (the unique keys and the row lock both ensure it).
    const duplicates = await db.query(
      `SELECT unique_key, count(*)::int AS n FROM nest_jobs GROUP BY unique_key HAVING count(*) > 1`,
    );
    expect(duplicates).toEqual([]);
    expect(new Set(all).size).toBe(all.length);
    expect(new Set(skip).size).toBe(skip.length);
    expect(all.length).toBeGreaterThan(10);
    // missed: 'all' loses nothing, not even during the outage.
    expect(missingBetween(all)).toEqual([]);
    // missed: 'skip' loses only occurrences of the outage (within its one-second grace).
    const lost = missingBetween(skip);
    expect(lost.length).toBeGreaterThan(0);
    for (const t of lost) {
      expect(t).toBeGreaterThanOrEqual(outageStart - 1_500);
      expect(t).toBeLessThanOrEqual(backAt);
    }
  }, 90_000);
});
