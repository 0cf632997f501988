import { afterEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DEMO_DEFAULTS } from 'nest-jobs-demo/config/demo-config';
import { createDemoApp } from 'nest-jobs-demo/create-demo-app';
import request from 'supertest';
import { CapturingLogger } from '../../support/jobs-app.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { insertJobRow } from '../../support/jobs-table.js';
import { otherConnections } from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

const TOKEN = 'e2e-admin-token-0123456789';

/** The demo's operator routes (/admin): JobsReader and pause/resume behind the admin guard. */
describe('demo app: admin routes', () => {
  let app: INestApplication | undefined;
  let logger: CapturingLogger;
  const { db } = useJobsSuite('demo_admin', { closeOwnConnections: closeDemo });

  async function bootDemo(adminToken: string | null): Promise<void> {
    await closeDemo();
    logger = new CapturingLogger();
    app = await createDemoApp({
      databaseUrl: db.url,
      logger,
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

  it('refuses every admin route when no token is configured (default-deny, 403)', async () => {
    await bootDemo(null);
    for (const [method, path] of [
      ['get', '/admin/jobs'],
      ['get', '/admin/counts'],
      ['get', '/admin/queues'],
      ['post', '/admin/queues/emails/pause'],
    ] as const) {
      const response = await http()
        [method](path)
        .set('authorization', `Bearer ${TOKEN}`)
        .expect(403);
      expect(response.body.message).toContain('DEMO_ADMIN_TOKEN');
    }
    expect(
      await db.query('SELECT count(*)::int AS n FROM nest_jobs_queues'),
    ).toEqual([{ n: 0 }]);
  });

  it('refuses a request without the token or with a wrong one (401), and never logs the token', async () => {
    await bootDemo(TOKEN);
    for (const authorization of [
      undefined,
      '',
      'Bearer',
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Basic ${TOKEN}`,
      TOKEN,
    ]) {
      const call = http().post('/admin/queues/emails/pause');
      if (authorization !== undefined) call.set('authorization', authorization);
      const response = await call.expect(401);
      expect(response.body.message).toContain('Authorization: Bearer');
    }
    expect(
      await db.query('SELECT count(*)::int AS n FROM nest_jobs_queues'),
    ).toEqual([{ n: 0 }]);
    expect(logger.lines.some((line) => line.message.includes(TOKEN))).toBe(
      false,
    );
  });

  it('with the token: lists, gets, counts, per-queue stats, pause and resume', async () => {
    await bootDemo(TOKEN);
    const auth = (call: request.Test) =>
      call.set('authorization', `Bearer ${TOKEN}`);
    const failed = await insertJobRow(db, {
      job_type: 'reports.build',
      queue: 'reports',
      status: 'failed',
      last_error: 'boom',
    });

    const page = await auth(
      http().get('/admin/jobs?status=failed&limit=10'),
    ).expect(200);
    expect(page.body.jobs.map((job: { id: string }) => job.id)).toEqual([
      failed.id,
    ]);
    expect(page.body.nextCursor).toBeNull();
    await auth(http().get(`/admin/jobs/${failed.id}`)).expect(200);
    const one = await auth(http().get(`/admin/jobs/${failed.id}`));
    expect(one.body).toMatchObject({ id: failed.id, lastError: 'boom' });
    await auth(
      http().get('/admin/jobs/00000000-0000-4000-8000-000000000000'),
    ).expect(404);
    const bad = await auth(http().get('/admin/jobs?status=done')).expect(400);
    expect(bad.body).toMatchObject({ error: 'InvalidJobsOptionError' });
    await auth(http().get('/admin/jobs?limit=1000')).expect(400);
    await auth(http().get('/admin/jobs?createdFrom=yesterday')).expect(400);
    await auth(http().get('/admin/jobs?orderBy=id')).expect(400);
    await auth(http().get('/admin/jobs/not-a-uuid')).expect(400);

    const counts = await auth(http().get('/admin/counts')).expect(200);
    // The demo's recurring snapshot (queue maintenance) may fire during the test.
    expect({
      ...counts.body,
      counts: counts.body.counts.filter(
        (count: { queue: string }) => count.queue !== 'maintenance',
      ),
    }).toEqual({
      estimated: false,
      counts: [{ queue: 'reports', status: 'failed', count: 1 }],
    });

    const paused = await auth(http().post('/admin/queues/emails/pause')).expect(
      200,
    );
    expect(paused.body).toEqual({ queue: 'emails', changed: true });
    const stats = await auth(http().get('/admin/queues')).expect(200);
    expect(stats.body).toContainEqual(
      expect.objectContaining({ queue: 'emails', paused: true }),
    );
    await waitFor('the worker to see emails paused', async () =>
      (await http().get('/worker').expect(200)).body.pausedQueues.includes(
        'emails',
      ),
    );
    const resumed = await auth(
      http().post('/admin/queues/emails/resume'),
    ).expect(200);
    expect(resumed.body).toEqual({ queue: 'emails', changed: true });
  });
});
