import { beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DEMO_DEFAULTS } from 'nest-jobs-demo/config/demo-config';
import { createDemoApp } from 'nest-jobs-demo/create-demo-app';
import request from 'supertest';
import { CapturingLogger } from '../../support/jobs-app.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { jobRow, waitForStatus } from '../../support/jobs-table.js';
import { otherConnections } from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

/**
 * The demo application itself (apps/demo), booted in-process on a database of its own and
 * driven over HTTP, as a user of the README would.
 */
describe('demo app', () => {
  let app: INestApplication | undefined;
  let logger: CapturingLogger;
  const { db } = useJobsSuite('demo', { closeOwnConnections: closeDemo });

  /**
   * Boots the demo with its defaults (whatever DEMO_* variables the shell has), except a
   * shorter poll interval, which keeps delayed jobs and retries quick.
   */
  async function bootDemo(): Promise<INestApplication> {
    logger = new CapturingLogger();
    return createDemoApp({
      databaseUrl: db.url,
      logger,
      settings: { ...DEMO_DEFAULTS, pollIntervalMs: 100 },
    });
  }

  function http() {
    return request(app!.getHttpServer());
  }

  async function closeDemo(): Promise<void> {
    await app?.close();
    app = undefined;
    await waitFor(
      'every connection of the demo to be closed',
      async () => (await otherConnections(db)).length === 0,
    );
  }

  beforeAll(async () => {
    app = await bootDemo();
  });

  it('GET /worker shows the claim state: jobs claimed ahead of a free slot, and the size of the next claim', async () => {
    const { body } = await http().get('/worker').expect(200);
    // batchSize defaults to concurrency (5): under the 50 rows a claim is never cut below.
    expect(body).toMatchObject({
      enabled: true,
      concurrency: 5,
      claimSize: 5,
    });
    expect(body.claimedAhead).toBeGreaterThanOrEqual(0);
    expect(body.claimedAhead).toBeLessThanOrEqual(5);
  });

  it('creates a user and enqueues its welcome email in the same transaction', async () => {
    const response = await http()
      .post('/users')
      .set('x-request-id', 'e2e-signup-1')
      .send({ email: 'Ada@Example.com', name: 'Ada' })
      .expect(201);
    expect(response.headers['x-request-id']).toBe('e2e-signup-1');
    const { user, jobId } = response.body as {
      user: { id: string; email: string };
      jobId: string;
    };
    expect(user.email).toBe('ada@example.com');

    const job = await waitForStatus(db, jobId, 'completed');
    expect(job).toMatchObject({
      job_type: 'users.welcome-email',
      queue: 'emails',
      attempts: 1,
      trace_id: 'e2e-signup-1',
      payload: { userId: user.id, email: 'ada@example.com', name: 'Ada' },
    });
    const emails = await http().get('/emails').expect(200);
    expect(emails.body).toContainEqual(
      expect.objectContaining({
        to: 'ada@example.com',
        subject: 'Welcome, Ada!',
        jobId,
        traceId: 'e2e-signup-1',
      }),
    );
    // The worker's completion carries the request's trace id (GET /events: JobsEvents).
    const events = await http().get('/events?limit=200').expect(200);
    expect(events.body).toContainEqual(
      expect.objectContaining({
        event: 'job.completed',
        jobId,
        attempt: 1,
        traceId: 'e2e-signup-1',
      }),
    );
    await http()
      .post('/users')
      .send({ email: 'ada@example.com', name: 'Ada again' })
      .expect(409);
  });

  it('rolls back the user and its job when the transaction fails after the enqueue', async () => {
    const response = await http()
      .post('/users?fail=true')
      .send({ email: 'grace@example.com', name: 'Grace' })
      .expect(500);
    expect(response.body.message).toMatch(/rolled back/);
    const { jobId, userId } = response.body.rolledBack as {
      jobId: string;
      userId: string;
    };

    expect(await jobRow(db, jobId)).toBeUndefined();
    expect(
      await db.query('SELECT 1 FROM users WHERE id = $1 OR email = $2', [
        userId,
        'grace@example.com',
      ]),
    ).toHaveLength(0);
    await http().get(`/jobs/${jobId}`).expect(404);
  });

  it('retries a flaky job with backoff until its third attempt succeeds', async () => {
    const { body } = await http().post('/flaky').send({}).expect(202);
    const jobId = (body as { jobId: string }).jobId;

    const job = await waitForStatus(db, jobId, 'completed');
    expect(job.attempts).toBe(3);
    expect(job.last_error).toMatch(/Simulated failure at attempt 2/);
    const events = await http().get('/events?limit=200').expect(200);
    const retries = (
      events.body as Array<{ event: string; jobId?: string }>
    ).filter((e) => e.event === 'job.retried' && e.jobId === jobId);
    // Newest first.
    expect(retries).toEqual([
      expect.objectContaining({
        attempt: 2,
        detail: expect.stringMatching(/^retry in \d+ ms$/),
      }),
      expect.objectContaining({
        attempt: 1,
        detail: expect.stringMatching(/^retry in \d+ ms$/),
      }),
    ]);
  });

  it('shows every failed attempt of the flaky job in GET /jobs/:id', async () => {
    const { body } = await http().post('/flaky').send({}).expect(202);
    const jobId = (body as { jobId: string }).jobId;
    await waitForStatus(db, jobId, 'completed');
    const job = await http().get(`/jobs/${jobId}`).expect(200);
    expect(job.body).toMatchObject({
      attemptErrors: [
        {
          attempt: 1,
          kind: 'failed',
          error: expect.stringMatching(/Simulated failure at attempt 1/),
          instance: expect.any(String),
        },
        { attempt: 2, kind: 'failed' },
      ],
    });
  });

  it('snoozes a waiting job until it is ready, then shows its progress', async () => {
    const { body } = await http()
      .post('/waiting')
      .send({ readyInMs: 700, steps: 3 })
      .expect(202);
    const jobId = (body as { jobId: string }).jobId;
    await waitForStatus(db, jobId, 'completed');
    const job = await http().get(`/jobs/${jobId}`).expect(200);
    expect(job.body).toMatchObject({
      attempts: 1,
      progress: { step: 3, of: 3 },
      attemptErrors: null,
    });
    expect((job.body as { releases: number }).releases).toBeGreaterThan(0);
    const events = await http().get('/events?limit=200').expect(200);
    const mine = (
      events.body as Array<{ event: string; jobId?: string; detail?: string }>
    ).filter((e) => e.jobId === jobId);
    expect(mine.map((e) => e.event)).toContain('job.snoozed');
    expect(mine).toContainEqual(
      expect.objectContaining({
        event: 'job.progress',
        detail: 'progress {"step":3,"of":3}',
      }),
    );
  });

  it('runs a delayed report and shows its progress', async () => {
    const created = await http()
      .post('/reports')
      .send({ upTo: 200_000, delay: 1_000 })
      .expect(202);
    const reportId = (created.body as { id: string }).id;
    expect(created.body).toMatchObject({ status: 'queued', progress: 0 });

    const early = await http().get(`/reports/${reportId}`).expect(200);
    expect(early.body).toMatchObject({
      status: 'queued',
      job: { status: 'pending', attempts: 0 },
    });
    const createdAt = Date.parse(early.body.createdAt);
    expect(Date.parse(early.body.job.runAt) - createdAt).toBeGreaterThan(900);

    const progressSeen: number[] = [];
    const done = await waitFor(
      'the report to be done',
      async () => {
        const { body } = await http().get(`/reports/${reportId}`);
        if (body.status === 'running') progressSeen.push(body.progress);
        // The handler marks its report done just before it returns; the queue records the
        // job completed with the next outcome write, a few milliseconds later.
        return body.status === 'done' && body.job?.status !== 'running' && body;
      },
      { timeoutMs: 10_000, intervalMs: 50 },
    );
    // The job runs for about 1.2 s, writing its progress: polls must have caught it running.
    expect(progressSeen.length).toBeGreaterThan(0);
    expect(progressSeen).toEqual([...progressSeen].sort((a, b) => a - b));
    expect(done).toMatchObject({
      progress: 100,
      result: { primes: 17_984, largestPrime: 199_999, attempt: 1 },
      job: { status: 'completed', attempts: 1 },
    });
    expect(Date.parse(done.startedAt) - createdAt).toBeGreaterThanOrEqual(900);

    await http().get('/reports/not-a-uuid').expect(400);
    await http()
      .get('/reports/00000000-0000-4000-8000-000000000000')
      .expect(404);
  });

  it('turns nest-jobs validation errors into 400 responses', async () => {
    const badDelay = await http()
      .post('/reports')
      .send({ delay: -5 })
      .expect(400);
    expect(badDelay.body.message).toMatch(/Invalid nest-jobs option "delay"/);

    const unknown = await http()
      .post('/jobs')
      .send({ name: 'no.such-job', payload: {} })
      .expect(400);
    expect(unknown.body).toMatchObject({
      error: 'UnknownJobError',
      message: expect.stringContaining('Unknown job "no.such-job"'),
    });

    const rejected = await http()
      .post('/jobs')
      .send({ name: 'users.welcome-email', payload: { email: 'nobody' } })
      .expect(400);
    expect(rejected.body.error).toBe('InvalidPayloadError');
  });

  it('sends a newsletter once per user and subject: the second post is all duplicates', async () => {
    const subject = `Unique news ${Date.now()}`;
    const first = await http()
      .post('/emails/newsletter')
      .send({ subject })
      .expect(202);
    expect(first.body.recipients).toBeGreaterThanOrEqual(1);
    expect(first.body.duplicates).toBe(0);
    const again = await http()
      .post('/emails/newsletter')
      .send({ subject })
      .expect(202);
    expect(again.body).toEqual({
      recipients: first.body.recipients,
      jobIds: first.body.jobIds,
      duplicates: first.body.recipients,
    });
  });

  it('lists jobs with filters and pagination', async () => {
    const emails = await http()
      .get('/jobs?queue=emails&status=completed')
      .expect(200);
    expect(emails.body.total).toBeGreaterThanOrEqual(1);
    for (const job of emails.body.items as JobRowJson[]) {
      expect(job).toMatchObject({ queue: 'emails', status: 'completed' });
    }

    const all = await http().get('/jobs').expect(200);
    const total = all.body.total as number;
    expect(total).toBeGreaterThanOrEqual(3);
    const first = await http().get('/jobs?limit=1&page=1').expect(200);
    const second = await http().get('/jobs?limit=1&page=2').expect(200);
    expect(first.body).toMatchObject({ page: 1, limit: 1, total });
    expect(first.body.items).toHaveLength(1);
    expect(second.body.items).toHaveLength(1);
    expect(second.body.items[0].id).not.toBe(first.body.items[0].id);

    const traced = await http().get('/jobs?traceId=e2e-signup-1').expect(200);
    expect(traced.body.items).toEqual([
      expect.objectContaining({ jobType: 'users.welcome-email' }),
    ]);
    const one = await http()
      .get(`/jobs/${traced.body.items[0].id}`)
      .expect(200);
    expect(one.body).toMatchObject({ traceId: 'e2e-signup-1', attempts: 1 });

    const badStatus = await http().get('/jobs?status=done').expect(400);
    expect(badStatus.body.message).toBe(
      'Unknown job status "done": expected one of pending, running, completed, failed, cancelled',
    );
    await http().get('/jobs?limit=0').expect(400);
    await http().get('/jobs/not-a-uuid').expect(400);
    await http().get('/jobs/00000000-0000-4000-8000-000000000000').expect(404);
  });

  it('runs a job left pending by an app that was stopped, after a restart', async () => {
    const { body } = await http()
      .post('/reports')
      .send({ upTo: 1_000, delay: 1_500 })
      .expect(202);
    const report = body as { id: string; jobId: string };
    await closeDemo();
    expect((await jobRow(db, report.jobId))?.status).toBe('pending');

    app = await bootDemo();
    await waitForStatus(db, report.jobId, 'completed');
    const { body: done } = await http()
      .get(`/reports/${report.id}`)
      .expect(200);
    expect(done).toMatchObject({
      status: 'done',
      result: { primes: 168, largestPrime: 997 },
    });
  });
});

/** A job as GET /jobs returns it (JobEntity as JSON). */
interface JobRowJson {
  id: string;
  queue: string;
  status: string;
}
