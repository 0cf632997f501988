import { beforeAll, describe, expect, it } from '@jest/globals';
import type pg from 'pg';
import { DataSource } from 'typeorm';
import { createWorkerPool } from '../../../packages/nest-jobs/src/connections/worker-pool.js';
import { useJobsSuite, type SuiteApp } from '../../support/jobs-suite.js';

describe('a connection of the DataSource pool that dies between queries', () => {
  const suite = useJobsSuite('connection_errors');
  const { db } = suite;
  let app: SuiteApp;

  beforeAll(async () => {
    app = await suite.app({ jobs: { worker: { enabled: false } } });
  });

  it('does not end the process: the failure reaches a listener, the pool goes on', async () => {
    const dataSource = app.get(DataSource);
    const pool = (dataSource.driver as unknown as { master: pg.Pool }).master;
    // Handed out by the pool: pg-pool's own listener is gone, and no query runs on it (the
    // state TypeORM's query runner is in until its promise continuation adds a listener).
    const client = await pool.connect();
    const [{ pid }] = (
      await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
    ).rows;
    const ended = new Promise((resolve) => client.once('end', resolve));
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    // Without a listener, the FATAL message would have thrown out of the socket's read.
    await ended;
    client.release(new Error('terminated'));

    expect(
      app.logger
        .messages('debug')
        .some((line) =>
          line.includes("A connection of the DataSource's pool failed"),
        ),
    ).toBe(true);
    expect(await dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it("a connection of the worker's own pool that dies while checked out, between statements, does not end the process either", async () => {
    const pool = createWorkerPool(
      {
        connectionString: db.url,
        application_name: 'connection-errors (worker)',
      },
      1,
      5_000,
    );
    try {
      // As a transaction holds it between two statements (a schedules tick, a limited
      // queue's claim).
      const client = await pool.connect();
      const [{ pid }] = (
        await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
      ).rows;
      const ended = new Promise((resolve) => client.once('end', resolve));
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      await ended;
      client.release(new Error('terminated'));
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });
});
