import { beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppModule } from 'nest-jobs-demo/app.module';
import { DEMO_DEFAULTS } from 'nest-jobs-demo/config/demo-config';
import { FlakyJob } from 'nest-jobs-demo/flaky/flaky.job';
import { MailerService } from 'nest-jobs-demo/mail/mailer.service';
import { WelcomeEmailJob } from 'nest-jobs-demo/users/welcome-email.job';
import { JobsTesting, withManualWorker } from 'nest-jobs/testing';
import request from 'supertest';
import { CapturingLogger } from '../../support/jobs-app.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { otherConnections } from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

/**
 * The typical test of an app that uses nest-jobs, written as a user would with
 * `nest-jobs/testing`: the demo's own AppModule in a Nest testing module whose worker runs
 * nothing on its own, driven over HTTP; jobs run when the test drains them, and the test
 * clock makes a backoff retry due without waiting for it.
 */
describe('demo app under nest-jobs/testing', () => {
  let app: INestApplication | undefined;
  let jobs: JobsTesting;
  const { db } = useJobsSuite('demo_testing', { closeOwnConnections: close });

  async function close(): Promise<void> {
    await app?.close();
    app = undefined;
    await waitFor(
      'every connection of the demo to be closed',
      async () => (await otherConnections(db)).length === 0,
    );
  }

  beforeAll(async () => {
    const moduleRef = await withManualWorker(
      Test.createTestingModule({
        imports: [AppModule.forRoot({ ...DEMO_DEFAULTS, databaseUrl: db.url })],
      }),
    )
      .setLogger(new CapturingLogger())
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
    jobs = JobsTesting.from(app);
  });

  const http = () => request(app!.getHttpServer());

  it('a controller enqueues the welcome email in its transaction; draining sends it', async () => {
    const response = await http()
      .post('/users')
      .set('x-request-id', 'signup-under-test')
      .send({ email: 'Grace@Example.com', name: 'Grace' })
      .expect(201);
    const { user, jobId } = response.body as {
      user: { id: string };
      jobId: string;
    };

    // Enqueued, and nothing ran it: the worker is manual.
    const job = await jobs.expectEnqueued(WelcomeEmailJob, 'send', {
      email: 'grace@example.com',
    });
    expect(job.id).toBe(jobId);
    expect(job.payload.userId).toBe(user.id);
    expect(app!.get(MailerService).sent()).toEqual([]);

    const drained = await jobs.drain();
    expect(drained.attempts.map((a) => [a.name, a.outcome])).toEqual([
      ['users.welcome-email', 'completed'],
    ]);
    const emails = await http().get('/emails').expect(200);
    expect(emails.body).toEqual([
      expect.objectContaining({
        to: 'grace@example.com',
        subject: 'Welcome, Grace!',
        jobId,
        traceId: 'signup-under-test',
      }),
    ]);
  });

  it('the handler alone, with performJob: no queue, a real context', async () => {
    const mailer = app!.get(MailerService);
    const before = mailer.sent().length;
    const result = await jobs.performJob(WelcomeEmailJob, 'send', {
      userId: 'u-1',
      email: 'linus@example.com',
      name: 'Linus',
    });
    expect(result.outcome).toBe('completed');
    expect(mailer.sent().slice(before)).toEqual([
      expect.objectContaining({ to: 'linus@example.com' }),
    ]);
    // The handler's own validation applies as it would in the worker.
    await expect(
      jobs.performJob(WelcomeEmailJob, 'send', {
        userId: 'u-2',
        email: 'not-an-email',
        name: 'X',
      }),
    ).rejects.toThrow('email must be an email address');
  });

  it('a retry after backoff, driven by the test clock rather than by waiting', async () => {
    jobs.clock.set(Date.now());
    const { jobId } = (
      await http().post('/flaky').send({ failures: 2 }).expect(202)
    ).body as { jobId: string };

    expect((await jobs.drain()).counts.retried).toBe(1);
    // The retry is not due yet: a drain now runs nothing.
    expect((await jobs.drain()).attempts).toEqual([]);
    // FlakyJob's backoff is capped at 5 s: past it, the retry is due.
    jobs.clock.advance(5_000);
    expect((await jobs.drain()).counts.retried).toBe(1);
    jobs.clock.advance(5_000);
    expect((await jobs.drain()).attempts).toEqual([
      expect.objectContaining({ id: jobId, attempt: 3, outcome: 'completed' }),
    ]);
    const row = await jobs.waitForJob(jobId, { timeoutMs: 1_000 });
    expect(row).toMatchObject({ status: 'completed', attempts: 3 });
    await jobs.expectNotEnqueued(FlakyJob, 'run');
    jobs.clock.reset();
  });
});
