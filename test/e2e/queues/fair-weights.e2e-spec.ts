import { afterEach, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Job, JobsModule, JobsService } from 'nest-jobs';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { waitForStatus } from '../../support/jobs-table.js';

const WAIT = { timeoutMs: 60_000 };
/** Every key's jobs become due together, after all of them were enqueued. */
const DUE_IN_MS = 3_000;

/** The keys of the jobs in the order their handlers started. */
const starts: string[] = [];

@Injectable()
class Tenants {
  @Job({ name: 'sync', queue: 'weighted', maxRetries: 0 })
  async sync(payload: { key: string; ms: number }) {
    starts.push(payload.key);
    await new Promise((resolve) => setTimeout(resolve, payload.ms));
  }
}

/** Each key's share of `keys`, rounded to a hundredth. */
function shares(keys: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const key of keys) counts[key] = (counts[key] ?? 0) + 1;
  return Object.fromEntries(
    Object.entries(counts).map(([key, n]) => [
      key,
      Math.round((n / keys.length) * 100) / 100,
    ]),
  );
}

/**
 * `queuePolicies.<queue>.fair: { weights, defaultWeight }`: while every key has jobs waiting,
 * the keys' starts follow their weights, through the worker's real claims (small claims,
 * one turn per key each; and claims larger than a round of turns).
 */
describe('fair queues with weights per key', () => {
  const suite = useJobsSuite('fair-weights', { clearJobsAfterEach: true });
  const { db } = suite;
  afterEach(() => {
    starts.length = 0;
  });

  const app = (
    concurrency: number,
    batchSize: number,
    weights: Record<string, number>,
    keyConcurrency?: number,
  ) =>
    suite.app({
      providers: [Tenants],
      jobsModule: JobsModule.forRoot({
        runMigrations: true,
        queuePolicies: { weighted: { fair: { weights }, keyConcurrency } },
        worker: { concurrency, batchSize, claimAhead: 0, pollIntervalMs: 100 },
      }),
    });

  /** `perKey` jobs of each key, all due at one moment after the last enqueue. */
  async function flood(
    jobs: JobsService,
    keys: readonly string[],
    perKey: number,
    ms: number,
  ): Promise<string[]> {
    const runAt = new Date(Date.now() + DUE_IN_MS);
    const ids: string[] = [];
    for (const key of keys)
      ids.push(
        ...(await jobs.enqueueMany(
          'sync',
          Array.from({ length: perKey }, () => ({ key, ms })),
          { concurrencyKey: key, runAt },
        )),
      );
    return ids;
  }

  it('claims of one round: gold (3), silver (2) and bronze (default 1) start 3:2:1 while all wait', async () => {
    const jobs = (await app(6, 6, { gold: 3, silver: 2 })).get(JobsService);
    const ids = await flood(jobs, ['gold', 'silver', 'bronze'], 60, 5);
    for (const id of ids) await waitForStatus(db, id, 'completed', WAIT);
    // The first 96 starts: gold, the heaviest, still had jobs waiting (60 of them at a
    // half share last 120 starts), so every key was waiting throughout.
    const early = shares(starts.slice(0, 96));
    expect(early.gold).toBeGreaterThanOrEqual(0.42);
    expect(early.gold).toBeLessThanOrEqual(0.58);
    expect(early.silver).toBeGreaterThanOrEqual(0.26);
    expect(early.silver).toBeLessThanOrEqual(0.4);
    expect(early.bronze).toBeGreaterThanOrEqual(0.1);
    expect(early.bronze).toBeLessThanOrEqual(0.24);
  }, 90_000);

  it('claims larger than a round of turns split the rest by weight too (3:1)', async () => {
    const jobs = (await app(100, 100, { a: 3 })).get(JobsService);
    const ids = await flood(jobs, ['a', 'b'], 300, 2);
    for (const id of ids) await waitForStatus(db, id, 'completed', WAIT);
    // a at three quarters: its 300 jobs last 400 starts; the first 300 are all shared.
    const early = shares(starts.slice(0, 300));
    expect(early.a).toBeGreaterThanOrEqual(0.68);
    expect(early.a).toBeLessThanOrEqual(0.82);
    // Work-conserving: once a key ran out, the other took every slot.
    expect(starts.length).toBe(600);
  }, 90_000);

  it('a key-limited queue (its claims under the queue lock) splits its claims by weight too', async () => {
    // keyConcurrency makes the claim count each key's running jobs under the queue's lock
    // (claimCapped). At 1,000 it does not bind here: where it binds, a key at its limit takes
    // nothing and the others take its share (the running count includes jobs whose outcome
    // is not written yet). b is the heavier key: without weights, a (walked first after every
    // claim's last key, b) took the rest of each claim, 0.98 of the starts.
    const jobs = (await app(100, 100, { b: 3 }, 1_000)).get(JobsService);
    const ids = await flood(jobs, ['a', 'b'], 300, 20);
    for (const id of ids) await waitForStatus(db, id, 'completed', WAIT);
    const early = shares(starts.slice(0, 300));
    expect(early.b).toBeGreaterThanOrEqual(0.68);
    expect(early.b).toBeLessThanOrEqual(0.82);
  }, 90_000);
});
