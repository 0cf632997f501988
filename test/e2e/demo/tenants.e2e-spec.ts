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

const WAIT = { timeoutMs: 30_000 };

/** The demo's flow control per tenant over HTTP: webhooks limited per tenant, export queues by pattern. */
describe('demo app: tenants', () => {
  let app: INestApplication | undefined;
  const { db } = useJobsSuite('demo_tenants', {
    closeOwnConnections: closeDemo,
  });

  async function bootDemo(): Promise<void> {
    app = await createDemoApp({
      databaseUrl: db.url,
      logger: new CapturingLogger(),
      settings: { ...DEMO_DEFAULTS, pollIntervalMs: 100 },
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

  it('starts at most two webhooks of a tenant a second (keyRateLimit); a flooding tenant does not hold back another', async () => {
    await bootDemo();
    const flood = await http()
      .post('/tenants/flood/webhooks')
      .send({ count: 6 })
      .expect(202);
    await waitForStatus(db, flood.body.jobIds[1], 'completed', WAIT);
    const calm = await http()
      .post('/tenants/calm/webhooks')
      .send({})
      .expect(202);
    for (const id of [...flood.body.jobIds, ...calm.body.jobIds])
      await waitForStatus(db, id, 'completed', WAIT);
    const windows = await db.query<{ key: string; n: number }>(
      `SELECT key, max(n)::int AS n FROM (
         SELECT j.ordering_key AS key,
                (SELECT count(*) FROM nest_jobs o WHERE o.queue = 'webhooks' AND o.ordering_key = j.ordering_key
                   AND o.started_at > j.started_at - interval '1 second' AND o.started_at <= j.started_at) AS n
         FROM nest_jobs j WHERE j.queue = 'webhooks') w
       GROUP BY key ORDER BY key`,
    );
    expect(windows).toEqual([
      { key: 'tenant:calm', n: 1 },
      { key: 'tenant:flood', n: 2 },
    ]);
    // The calm tenant's webhook ran before the flooding tenant's third, in its second window.
    const [{ calmAt, floodThird }] = await db.query<{
      calmAt: Date;
      floodThird: Date;
    }>(
      `SELECT (SELECT started_at FROM nest_jobs WHERE ordering_key = 'tenant:calm') AS "calmAt",
              (SELECT started_at FROM nest_jobs WHERE ordering_key = 'tenant:flood'
               ORDER BY started_at OFFSET 2 LIMIT 1) AS "floodThird"`,
    );
    expect(calmAt.getTime()).toBeLessThan(floodThird.getTime());
    const { body } = await http().get('/tenants/flood').expect(200);
    expect(body.activity).toHaveLength(6);
    expect(body.activity[0]).toMatchObject({
      kind: 'webhook',
      queue: 'webhooks',
    });
  }, 60_000);

  it("works each tenant's export queue (tenants.<tenant>) through the worker's pattern tenants.*, with no set-up", async () => {
    await bootDemo();
    const ids: string[] = [];
    for (const tenant of ['acme', 'globex']) {
      const { body } = await http()
        .post(`/tenants/${tenant}/exports`)
        .send({ count: 2 })
        .expect(202);
      expect(body.queue).toBe(`tenants.${tenant}`);
      ids.push(...body.jobIds);
    }
    for (const id of ids) await waitForStatus(db, id, 'completed', WAIT);
    for (const tenant of ['acme', 'globex']) {
      const { body } = await http().get(`/tenants/${tenant}`).expect(200);
      expect(body.activity.map((a: { queue: string }) => a.queue)).toEqual([
        `tenants.${tenant}`,
        `tenants.${tenant}`,
      ]);
    }
  }, 60_000);

  it('refuses a bad tenant or count with 400 before anything is enqueued', async () => {
    await bootDemo();
    await http().post('/tenants/a.b/exports').send({}).expect(400);
    await http().post('/tenants/zeta/webhooks').send({ count: 0 }).expect(400);
    await http()
      .post('/tenants/zeta/webhooks')
      .send({ count: 101 })
      .expect(400);
    expect(
      await db.query(
        `SELECT id FROM nest_jobs WHERE queue = 'tenants.a.b' OR ordering_key = 'tenant:zeta'`,
      ),
    ).toEqual([]);
  }, 60_000);
});
