import { beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DEMO_DEFAULTS } from 'nest-jobs-demo/config/demo-config';
import { createDemoApp } from 'nest-jobs-demo/create-demo-app';
import request from 'supertest';
import { CapturingLogger } from '../../support/jobs-app.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { dbNow, insertJobRow, jobRow } from '../../support/jobs-table.js';
import { otherConnections } from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

/** The demo's operator routes (JobControl over HTTP), guarded by DEMO_ADMIN_TOKEN. */
describe('demo app: operator routes', () => {
  let app: INestApplication | undefined;
  const { db } = useJobsSuite('demo-control', {
    closeOwnConnections: closeDemo,
  });
  const TOKEN = 'test-operator-token';

  async function closeDemo(): Promise<void> {
    await app?.close();
    app = undefined;
    await waitFor(
      'every connection of the demo to be closed',
      async () => (await otherConnections(db)).length === 0,
    );
  }

  async function bootDemo(adminToken: string | null): Promise<void> {
    await closeDemo();
    app = await createDemoApp({
      databaseUrl: db.url,
      logger: new CapturingLogger(),
      // No worker: the rows stay as the test writes them.
      settings: { ...DEMO_DEFAULTS, workerEnabled: false, adminToken },
    });
  }

  beforeAll(() => bootDemo(TOKEN));

  const post = (path: string, token?: string) => {
    const call = request(app!.getHttpServer()).post(path);
    return token ? call.set('Authorization', `Bearer ${token}`) : call;
  };

  it('refuses every operator route when the token is unset (default-deny), missing or wrong', async () => {
    const { id } = await insertJobRow(db, { job_type: 'x' });
    await post(`/admin/jobs/${id}/cancel`).expect(401);
    await post(`/admin/jobs/${id}/cancel`, 'wrong').expect(401);
    await post(`/admin/jobs/${id}/cancel`, `${TOKEN}x`).expect(401);
    await request(app!.getHttpServer()).delete(`/admin/jobs/${id}`).expect(401);
    await post('/admin/jobs/redrive').send({}).expect(401);
    // Without a configured token, nothing gets through (default-deny).
    await bootDemo(null);
    await post(`/admin/jobs/${id}/cancel`, TOKEN).expect(403);
    await post(`/admin/jobs/${id}/cancel`, '').expect(403);
    await bootDemo(TOKEN);
    expect((await jobRow(db, id))?.status).toBe('pending');
  });

  it('cancels, retries, runs now and deletes with the token; typed errors as 404, 409, 400', async () => {
    const { id } = await insertJobRow(db, {
      job_type: 'x',
      run_at: dbNow('1 day'),
    });
    await post(`/admin/jobs/${id}/run-now`, TOKEN).expect(204);
    await post(`/admin/jobs/${id}/cancel`, TOKEN).expect(204);
    expect((await jobRow(db, id))?.status).toBe('cancelled');
    const again = await post(`/admin/jobs/${id}/cancel`, TOKEN).expect(409);
    expect(again.body).toMatchObject({ error: 'JobStateError' });
    expect(again.body.message).toContain('it is cancelled');
    await post(`/admin/jobs/${id}/retry`, TOKEN).expect(204);
    expect((await jobRow(db, id))?.status).toBe('pending');
    await request(app!.getHttpServer())
      .delete(`/admin/jobs/${id}`)
      .set('Authorization', `Bearer ${TOKEN}`)
      .expect(204);
    expect(await jobRow(db, id)).toBeUndefined();
    await post(`/admin/jobs/${id}/cancel`, TOKEN).expect(404);
    await post('/admin/jobs/not-a-uuid/cancel', TOKEN).expect(400);
  });

  it('redrives by filter and answers how many; a bad filter or limit is 400', async () => {
    for (let i = 0; i < 3; i += 1)
      await insertJobRow(db, {
        job_type: 'redrive.me',
        status: 'failed',
        finished_at: dbNow(),
        last_error: 'timeout',
      });
    const moved = await post('/admin/jobs/redrive', TOKEN)
      .send({ name: 'redrive.me', errorContains: 'timeout' })
      .expect(201);
    expect(moved.body).toEqual({ moved: 3 });
    await post('/admin/jobs/redrive', TOKEN)
      .send({ limit: 1_000_000 })
      .expect(400);
    await post('/admin/jobs/redrive', TOKEN).send({ nope: true }).expect(400);
    await post('/admin/jobs/redrive', TOKEN)
      .send({ finishedAfter: 'yesterday' })
      .expect(400);
  });
});
