import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { thrownValue } from './fixture/chaos-handlers.js';
import { HANG_TIMEOUT_MS, type ThrownValueKind } from './fixture/protocol.js';
import {
  ChaosRun,
  expectCleanExits,
  expectSound,
  terminate,
} from './harness/chaos-run.js';
import { random, scaled, scaledTimeout } from './harness/size.js';

const KINDS: ThrownValueKind[] = [
  'string',
  'number',
  'null',
  'undefined',
  'object',
];

/**
 * Chaos scenario 5: bad jobs in a busy queue. 3 worker processes (30 slots in all) work one
 * queue holding 1,500 normal jobs (0-20 ms) with, shuffled in among them, jobs that always
 * throw an Error (maxRetries 2), jobs that hang forever and ignore their signal (timeout
 * 300 ms, maxRetries 1: 40 hanging attempts, more than all the slots together, so a slot
 * that a timed-out handler kept would stall the queue), and jobs that throw non-Error
 * values (a string, a number, null, undefined, a plain object). Every normal job must
 * complete at its first attempt; every bad one must end `failed` after exactly its allowed
 * attempts, with the right `last_error`.
 */
describe('chaos 5: poison, hanging and non-Error jobs in a busy queue', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await ChaosRun.open('poison-jobs');
  }, 60_000);
  afterAll(() => run?.close(), 60_000);

  it(
    'fails the bad jobs with the right error and completes all the others',
    async () => {
      const normal = scaled(1_500);
      const poison = scaled(20);
      const hang = scaled(20);
      const throwValues = scaled(5);

      // Enqueue in a shuffled order, in chunks, before the workers start: the bad jobs sit
      // in the same queue as the normal ones, spread over the whole backlog.
      type Enqueue = () => Promise<unknown>;
      const singles: Enqueue[] = [
        ...Array.from(
          { length: poison },
          () => () => run.producer.enqueuePoison(),
        ),
        ...Array.from({ length: hang }, () => () => run.producer.enqueueHang()),
        ...Array.from({ length: throwValues }, () =>
          KINDS.map((kind) => () => run.producer.enqueueThrowValue(kind)),
        ).flat(),
      ];
      let remaining = normal;
      while (remaining > 0 || singles.length > 0) {
        const bulk = Math.min(remaining, random(10, 60));
        if (bulk > 0)
          await run.producer.enqueueWork(
            run.producer.workPayloads(bulk, 0, 20),
          );
        remaining -= bulk;
        const picks = random(0, 3);
        for (let i = 0; i < picks && singles.length > 0; i += 1)
          await singles.splice(random(0, singles.length - 1), 1)[0]!();
      }

      const startedAt = Date.now();
      const workers = await run.cluster.startReady(['w1', 'w2', 'w3']);
      const result = await run.finish({}, scaledTimeout(60_000));
      const seconds = (Date.now() - startedAt) / 1000;
      const exits = await Promise.all(
        workers.map((worker) => terminate(worker, 20_000)),
      );

      const rows = await run.db.query<{
        job_type: string;
        status: string;
        attempts: number;
        last_error: string | null;
        payload: { seq: number; kind?: ThrownValueKind };
        executions: string;
      }>(
        `SELECT j.job_type, j.status, j.attempts, j.last_error, j.payload,
                (SELECT count(*) FROM chaos_ledger l
                 WHERE l.job_id = j.id AND l.event = 'start') AS executions
         FROM nest_jobs j`,
      );
      const byType = (type: string) => rows.filter((r) => r.job_type === type);

      run.report({
        workers: workers.length,
        slots: 30,
        normalJobs: normal,
        poisonJobs: poison,
        hangingJobs: hang,
        nonErrorJobs: throwValues * KINDS.length,
        ...result.figures,
        seconds: Math.round(seconds * 10) / 10,
      });

      expectSound(result);
      const work = byType('chaos.work');
      expect(work).toHaveLength(normal);
      expect(
        work.filter((r) => r.status !== 'completed' || r.attempts !== 1),
      ).toEqual([]);

      const poisoned = byType('chaos.poison');
      expect(poisoned).toHaveLength(poison);
      for (const row of poisoned) {
        expect(row).toMatchObject({
          status: 'failed',
          attempts: 3,
          executions: '3',
        });
        expect(row.last_error).toMatch(
          new RegExp(`^Error: poison job ${row.payload.seq} always fails\\n`),
        );
      }

      const hung = byType('chaos.hang');
      expect(hung).toHaveLength(hang);
      for (const row of hung) {
        expect(row).toMatchObject({
          status: 'failed',
          attempts: 2,
          executions: '2',
        });
        expect(row.last_error).toMatch(
          new RegExp(
            `^JobTimeoutError: Job timed out after ${HANG_TIMEOUT_MS} ms`,
          ),
        );
      }

      const thrown = byType('chaos.throwValue');
      expect(thrown).toHaveLength(throwValues * KINDS.length);
      for (const row of thrown) {
        const value = thrownValue(row.payload.kind!, row.payload.seq);
        expect(row).toMatchObject({
          status: 'failed',
          attempts: 1,
          executions: '1',
          last_error: `Non-Error value thrown: ${inspect(value, { depth: 3, breakLength: Infinity })}`,
        });
      }
      expectCleanExits(exits);
    },
    scaledTimeout(120_000),
  );
});
