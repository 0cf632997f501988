import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { EntityManager } from 'typeorm';
import { waitFor } from '../support/wait-for.js';
import { ChaosHandlers } from './fixture/chaos-handlers.js';
import {
  ChaosRun,
  expectCleanExits,
  expectSound,
  terminate,
} from './harness/chaos-run.js';
import { random, scaled, scaledTimeout } from './harness/size.js';

/** How a transaction ends. */
type Fate =
  | 'commit'
  | 'throw' // the callback throws after enqueueing: rollback
  | 'sql-error' // a statement after the enqueue fails (unique violation): rollback
  | 'connection-killed'; // its backend is terminated before the commit

function drawFate(): Fate {
  const r = Math.random();
  if (r < 0.5) return 'commit';
  if (r < 0.85) return 'throw';
  if (r < 0.95) return 'sql-error';
  return 'connection-killed';
}

class PlannedRollback extends Error {}

/**
 * Chaos scenario 6: transactional enqueue under failure. 4 concurrent producer loops run
 * transactions that write a business row (`chaos_orders`) and enqueue 1-3 jobs with
 * `{ manager }` (enqueue or enqueueMany; through DataSource.transaction or a QueryRunner),
 * while 2 worker processes consume. Half of the transactions do not commit: the callback
 * throws, a later statement fails, or the transaction's backend is terminated before the
 * commit. Exactly the jobs of committed transactions must exist and complete (once); no job
 * of a rolled-back transaction may exist or run.
 */
describe('chaos 6: transactional enqueue with rollbacks', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await ChaosRun.open('transactional-enqueue');
    await run.db.query(
      'CREATE TABLE chaos_orders (seq integer PRIMARY KEY, job_ids uuid[] NOT NULL)',
    );
  }, 60_000);
  afterAll(() => run?.close(), 60_000);

  it(
    'leaves exactly the jobs of committed transactions',
    async () => {
      const transactions = scaled(1_000);
      const workers = await run.cluster.startReady(['w1', 'w2']);
      const { dataSource, jobs } = run.producer;

      const outcomes: Record<Fate, number> = {
        commit: 0,
        throw: 0,
        'sql-error': 0,
        'connection-killed': 0,
      };
      const rolledBackIds: string[] = [];
      const rolledBackSeqs: number[] = [];
      const unexpected: unknown[] = [];

      /** What a transaction enqueued, known even when it then fails. */
      interface Written {
        ids: string[];
        seqs: number[];
      }
      const body = async (
        manager: EntityManager,
        fate: Fate,
        written: Written,
      ) => {
        const order = run.producer.nextSeq();
        const payloads = run.producer.workPayloads(random(1, 3), 0, 20);
        written.seqs.push(order, ...payloads.map((p) => p.seq));
        const ids =
          payloads.length === 1 && Math.random() < 0.5
            ? [
                await jobs.enqueue(ChaosHandlers, 'work', payloads[0]!, {
                  manager,
                }),
              ]
            : await jobs.enqueueMany(ChaosHandlers, 'work', payloads, {
                manager,
              });
        written.ids.push(...ids);
        await manager.query(
          'INSERT INTO chaos_orders (seq, job_ids) VALUES ($1, $2)',
          [order, ids],
        );
        if (fate === 'throw') throw new PlannedRollback();
        if (fate === 'sql-error')
          await manager.query(
            'INSERT INTO chaos_orders (seq, job_ids) VALUES ($1, $2)',
            [order, ids],
          );
        if (fate === 'connection-killed') {
          const [{ pid }] = await manager.query(
            'SELECT pg_backend_pid() AS pid',
          );
          await run.db.query('SELECT pg_terminate_backend($1)', [pid]);
          await waitFor(`backend ${pid} to be gone`, async () => {
            const rows = await run.db.query(
              'SELECT 1 FROM pg_stat_activity WHERE pid = $1',
              [pid],
            );
            return rows.length === 0;
          });
          // The commit now fails: the transaction died with its backend.
        }
      };

      const runOne = async () => {
        const fate = drawFate();
        const written: Written = { ids: [], seqs: [] };
        try {
          if (Math.random() < 0.7) {
            await dataSource.transaction((manager) =>
              body(manager, fate, written),
            );
          } else {
            const runner = dataSource.createQueryRunner();
            try {
              await runner.connect();
              await runner.startTransaction();
              await body(runner.manager, fate, written);
              await runner.commitTransaction();
            } catch (error) {
              if (runner.isTransactionActive)
                await runner.rollbackTransaction().catch(() => undefined);
              throw error;
            } finally {
              await runner.release();
            }
          }
          if (fate !== 'commit')
            unexpected.push(new Error(`a "${fate}" transaction committed`));
          outcomes.commit += 1;
          for (const id of written.ids)
            run.producer.expected.push({ id, kind: 'work', end: 'completed' });
        } catch (error) {
          if (fate === 'commit') unexpected.push(error);
          else outcomes[fate] += 1;
          rolledBackIds.push(...written.ids);
          rolledBackSeqs.push(...written.seqs);
        }
      };

      let left = transactions;
      await Promise.all(
        [1, 2, 3, 4].map(async () => {
          while (left > 0) {
            left -= 1;
            await runOne();
          }
        }),
      );

      const result = await run.finish({}, scaledTimeout(60_000));
      const exits = await Promise.all(
        workers.map((worker) => terminate(worker, 20_000)),
      );
      const [orders] = await run.db.query<{ n: string }>(
        'SELECT count(*) AS n FROM chaos_orders',
      );
      const leaked = await run.db.query<{ id: string }>(
        `SELECT id FROM nest_jobs WHERE id = ANY($1::uuid[])
            OR (payload->>'seq')::int = ANY($2::int[])`,
        [rolledBackIds, rolledBackSeqs],
      );
      const ranRolledBack = await run.db.query<{ job_id: string }>(
        'SELECT job_id FROM chaos_ledger WHERE job_id = ANY($1::uuid[])',
        [rolledBackIds],
      );
      const ordersWithoutJobs = await run.db.query<{ seq: number }>(
        `SELECT o.seq FROM chaos_orders o WHERE EXISTS (
           SELECT 1 FROM unnest(o.job_ids) AS j(id)
           WHERE NOT EXISTS (SELECT 1 FROM nest_jobs WHERE nest_jobs.id = j.id AND status = 'completed'))`,
      );

      run.report({
        workers: workers.length,
        transactions,
        committed: outcomes.commit,
        rolledBack: {
          throw: outcomes.throw,
          sqlError: outcomes['sql-error'],
          connectionKilled: outcomes['connection-killed'],
        },
        jobsOfRolledBackTransactions: rolledBackIds.length,
        leakedJobs: leaked.length,
        ...result.figures,
        seconds: run.elapsedSeconds(),
      });

      expect(unexpected).toEqual([]);
      expect(Number(orders!.n)).toBe(outcomes.commit);
      expect(leaked).toEqual([]);
      expect(ranRolledBack).toEqual([]);
      expect(ordersWithoutJobs).toEqual([]);
      expectSound(result); // no phantom: the table holds exactly the committed jobs
      expect(result.figures.reExecutedJobs).toBe(0);
      // Every kind of failure really happened.
      expect(outcomes.throw).toBeGreaterThan(0);
      expect(outcomes['sql-error']).toBeGreaterThan(0);
      expect(outcomes['connection-killed']).toBeGreaterThan(0);
      expect(rolledBackIds.length).toBeGreaterThan(0);
      expectCleanExits(exits);
    },
    scaledTimeout(120_000),
  );
});
