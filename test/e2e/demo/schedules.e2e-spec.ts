import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DEMO_DEFAULTS } from 'nest-jobs-demo/config/demo-config';
import { createDemoApp } from 'nest-jobs-demo/create-demo-app';
import request from 'supertest';
import { CapturingLogger } from '../../support/jobs-app.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { otherConnections } from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

const TOKEN = 'e2e-admin-token-0123456789';

/** The demo's recurring job and its schedule routes (/admin/schedules, behind the admin guard). */
describe('demo app: recurring jobs', () => {
  let app: INestApplication | undefined;
  const { db } = useJobsSuite('demo_schedules', {
    closeOwnConnections: closeDemo,
  });

  async function bootDemo(adminToken: string | null): Promise<void> {
    await closeDemo();
    app = await createDemoApp({
      databaseUrl: db.url,
      logger: new CapturingLogger(),
      settings: { ...DEMO_DEFAULTS, pollIntervalMs: 100, adminToken },
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
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('refuses the schedule routes without the token', async () => {
    await bootDemo(TOKEN);
    await http().get('/admin/schedules').expect(401);
    await http()
      .post('/admin/schedules/demo.queue-snapshot/trigger')
      .expect(401);
  });

  it('lists the declared schedule, triggers it, and adds, changes, pauses, resumes and removes one', async () => {
    await bootDemo(TOKEN);
    const listed = await http().get('/admin/schedules').set(auth).expect(200);
    expect(listed.body).toEqual([
      expect.objectContaining({
        name: 'demo.queue-snapshot',
        job: 'demo.queue-snapshot',
        cron: '0 */5 * * * *',
        declared: true,
        missed: 'skip',
      }),
    ]);
    const triggered = await http()
      .post('/admin/schedules/demo.queue-snapshot/trigger')
      .set(auth)
      .expect(200);
    expect(triggered.body.duplicate).toBe(false);
    await waitFor(
      'the triggered snapshot to complete',
      async () => {
        const { body } = await http()
          .get('/admin/schedules/demo.queue-snapshot')
          .set(auth);
        return body.lastJobId === triggered.body.id &&
          body.lastOutcome === 'completed'
          ? body
          : undefined;
      },
      { timeoutMs: 20_000 },
    );

    const added = await http()
      .post('/admin/schedules')
      .set(auth)
      .send({
        name: 'nightly',
        job: 'demo.queue-snapshot',
        cron: '0 3 * * *',
        timeZone: 'Europe/Berlin',
      })
      .expect(201);
    expect(added.body).toMatchObject({
      name: 'nightly',
      declared: false,
      timeZone: 'Europe/Berlin',
    });
    await http()
      .post('/admin/schedules')
      .set(auth)
      .send({ name: 'nightly', job: 'demo.queue-snapshot', cron: '0 3 * * *' })
      .expect(409);
    const bad = await http()
      .post('/admin/schedules')
      .set(auth)
      .send({ name: 'bad', job: 'demo.queue-snapshot', cron: '0 25 * * *' })
      .expect(400);
    expect(bad.body.message).toContain('Invalid schedule "bad": cron');
    const changed = await http()
      .patch('/admin/schedules/nightly')
      .set(auth)
      .send({ cron: '0 4 * * *' })
      .expect(200);
    expect(changed.body.cron).toBe('0 4 * * *');
    const paused = await http()
      .post('/admin/schedules/nightly/pause')
      .set(auth)
      .expect(200);
    expect(paused.body.pausedAt).not.toBeNull();
    const resumed = await http()
      .post('/admin/schedules/nightly/resume')
      .set(auth)
      .expect(200);
    expect(resumed.body.pausedAt).toBeNull();
    await http().delete('/admin/schedules/nightly').set(auth).expect(204);
    await http().get('/admin/schedules/nightly').set(auth).expect(404);
  });
});
