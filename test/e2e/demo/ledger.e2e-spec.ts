import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DEMO_DEFAULTS } from 'nest-jobs-demo/config/demo-config';
import { createDemoApp } from 'nest-jobs-demo/create-demo-app';
import request from 'supertest';
import { CapturingLogger } from '../../support/jobs-app.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { waitForStatus } from '../../support/jobs-table.js';
import { otherConnections } from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

const TOKEN = 'e2e-admin-token-0123456789';
const WAIT = { timeoutMs: 30_000 };

/** The demo's flow control over HTTP: the ordered /ledger, /admin/blocked-keys, the reports' limit. */
describe('demo app: ordered ledger', () => {
  let app: INestApplication | undefined;
  const { db } = useJobsSuite('demo_ledger', {
    closeOwnConnections: closeDemo,
  });

  async function bootDemo(): Promise<void> {
    app = await createDemoApp({
      databaseUrl: db.url,
      logger: new CapturingLogger(),
      settings: { ...DEMO_DEFAULTS, pollIntervalMs: 100, adminToken: TOKEN },
    });
  }

  async function closeDemo(): Promise<void> {
    await app?.close();
    app = undefined;
    await waitFor(
      'every connection of the demo to be closed',
      async () => (await otherConnections(db)).length === 0,
    );
  }

  afterEach(closeDemo);

  const http = () => request(app!.getHttpServer());
  const admin = (req: request.Test) =>
    req.set('authorization', `Bearer ${TOKEN}`);

  it('posts the entries of an account in request order; a rejected entry blocks its account until an operator deletes it', async () => {
    await bootDemo();
    const amounts = [10, -3, 5, 7, -2, 1, 4, -6, 8, 2];
    const posted: string[] = [];
    // Two requests per account, accounts side by side.
    for (const part of [amounts.slice(0, 5), amounts.slice(5)])
      for (const account of ['alice', 'bob']) {
        const { body } = await http()
          .post(`/ledger/${account}/entries`)
          .send({ amounts: part })
          .expect(202);
        posted.push(...body.jobIds);
      }
    for (const id of posted) await waitForStatus(db, id, 'completed', WAIT);
    for (const account of ['alice', 'bob']) {
      const { body } = await http().get(`/ledger/${account}`).expect(200);
      expect(body.entries.map((e: { amount: number }) => e.amount)).toEqual(
        amounts,
      );
      expect(body.entries.at(-1).balance).toBe(26);
    }

    const {
      body: {
        jobIds: [rejected],
      },
    } = await http()
      .post('/ledger/carol/entries')
      .send({ amount: 5, reject: true })
      .expect(202);
    const {
      body: {
        jobIds: [waiting],
      },
    } = await http()
      .post('/ledger/carol/entries')
      .send({ amount: 7 })
      .expect(202);
    await waitForStatus(db, rejected, 'failed', WAIT);
    await http().get('/admin/blocked-keys').expect(401);
    const { body: blocked } = await admin(
      http().get('/admin/blocked-keys'),
    ).expect(200);
    expect(blocked).toEqual([
      {
        queue: 'ledger',
        orderingKey: 'account:carol',
        failedJobId: rejected,
        failedAt: expect.any(String),
        waiting: 1,
      },
    ]);
    expect((await http().get('/ledger/carol')).body.entries).toEqual([]);
    await admin(http().delete(`/admin/jobs/${rejected}`)).expect(204);
    await waitForStatus(db, waiting, 'completed', WAIT);
    expect(
      (await http().get('/ledger/carol')).body.entries.map(
        (e: { amount: number }) => e.amount,
      ),
    ).toEqual([7]);
    expect((await admin(http().get('/admin/blocked-keys'))).body).toEqual([]);
  }, 90_000);

  it('a reserved entry holds its place until an operator commits it', async () => {
    await bootDemo();
    const {
      body: {
        jobIds: [reserved],
      },
    } = await http()
      .post('/ledger/erin/entries')
      .send({ amount: 100, reserve: true })
      .expect(202);
    const {
      body: {
        jobIds: [after],
      },
    } = await http()
      .post('/ledger/erin/entries')
      .send({ amount: -30 })
      .expect(202);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await http().get('/ledger/erin')).body.entries).toEqual([]);
    await admin(http().post(`/admin/jobs/${reserved}/run-now`)).expect(204);
    await waitForStatus(db, after, 'completed', WAIT);
    expect(
      (await http().get('/ledger/erin')).body.entries.map(
        (e: { balance: number }) => e.balance,
      ),
    ).toEqual([100, 70]);
  }, 60_000);

  it('builds at most two reports at once (queuePolicies.reports.concurrency), as GET /admin/queues shows', async () => {
    await bootDemo();
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1)
      ids.push(
        (await http().post('/reports').send({ upTo: 200_000 }).expect(202)).body
          .jobId,
      );
    const seen: number[] = [];
    await waitFor(
      'every report built',
      async () => {
        const { body } = await admin(http().get('/admin/queues')).expect(200);
        seen.push(
          body.find((q: { queue: string }) => q.queue === 'reports')?.running ??
            0,
        );
        const [{ left }] = await db.query(
          `SELECT count(*)::int AS left FROM nest_jobs WHERE queue = 'reports' AND status <> 'completed'`,
        );
        return left === 0;
      },
      WAIT,
    );
    expect(Math.max(...seen)).toBeLessThanOrEqual(2);
    expect(seen.filter((n) => n > 0).length).toBeGreaterThan(0);
  }, 90_000);

  it('sends at most ten emails a second (queuePolicies.emails.rateLimit), welcome emails and a newsletter alike', async () => {
    await bootDemo();
    for (let i = 0; i < 12; i += 1)
      await http()
        .post('/users')
        .send({ email: `rate${i}@example.com`, name: `Rate ${i}` })
        .expect(201);
    await http()
      .post('/emails/newsletter')
      .send({ subject: 'Rates' })
      .expect(202);
    await waitFor(
      'every email sent',
      async () =>
        (
          await db.query(
            `SELECT count(*)::int AS left FROM nest_jobs WHERE queue = 'emails' AND status <> 'completed'`,
          )
        )[0].left === 0,
      WAIT,
    );
    const windows = await db.query<{ n: number }>(
      `SELECT (SELECT count(*)::int FROM nest_jobs o WHERE o.queue = 'emails'
                 AND o.started_at > j.started_at - interval '1 second' AND o.started_at <= j.started_at) AS n
       FROM nest_jobs j WHERE j.queue = 'emails'`,
    );
    expect(windows.length).toBeGreaterThanOrEqual(24);
    expect(Math.max(...windows.map((w) => w.n))).toBe(10);
  }, 90_000);

  it('refuses bad entries with 400 before anything is enqueued', async () => {
    await bootDemo();
    for (const body of [
      { amounts: [] },
      { amounts: [1, 'x'] },
      { amount: 1.5 },
      {},
    ])
      await http().post('/ledger/dave/entries').send(body).expect(400);
    await http()
      .post(`/ledger/${'x'.repeat(101)}/entries`)
      .send({ amount: 1 })
      .expect(400);
    expect(
      await db.query(
        `SELECT id FROM nest_jobs WHERE ordering_key IN ('account:dave', 'account:${'x'.repeat(101)}')`,
      ),
    ).toEqual([]);
  }, 60_000);
});
