import { beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { DEMO_DEFAULTS } from 'nest-jobs-demo/config/demo-config';
import { createDemoApp } from 'nest-jobs-demo/create-demo-app';
import request from 'supertest';
import { CapturingLogger } from '../../support/jobs-app.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { otherConnections } from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

/**
 * The demo's exactly-once endpoints (apps/demo/src/exactly-once), over HTTP: a
 * transactional transfer job and a resumable import with checkpoints.
 */
describe('demo app: exactly-once effects', () => {
  let app: INestApplication | undefined;
  let logger: CapturingLogger;
  const { db } = useJobsSuite('demo_exactly_once', {
    closeOwnConnections: closeDemo,
  });

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

  const jobStatus = async (path: string, status: string) =>
    waitFor(
      `${path} to be ${status}`,
      async () => {
        const response = await http().get(path).expect(200);
        return response.body.status === status ? response.body : undefined;
      },
      { timeoutMs: 30_000 },
    );

  it('POST /transfers: the ledger entries commit with the completion; the writes of a failed attempt roll back', async () => {
    const { jobId } = (
      await http()
        .post('/transfers')
        .send({ from: 'alice', to: 'bob', amount: 30, failFirstAttempt: true })
        .expect(202)
    ).body as { jobId: string };
    const view = await jobStatus(`/transfers/${jobId}`, 'completed');
    expect(view.attempts).toBe(2);
    // Only the attempt that completed the job left entries: two, not four.
    expect(view.entries).toEqual([
      { account: 'alice', amount: -30, attempt: 2 },
      { account: 'bob', amount: 30, attempt: 2 },
    ]);
    await http().post('/transfers').send({ from: 'a' }).expect(400);
  });

  it('POST /imports: a long job that fails mid-way resumes from its checkpoint, every line imported once', async () => {
    const { jobId } = (
      await http()
        .post('/imports')
        .send({ lines: 30, failAfterLine: 11 })
        .expect(202)
    ).body as { jobId: string };
    const view = await jobStatus(`/imports/${jobId}`, 'completed');
    expect(view.lines).toBe(30);
    expect(view.duplicates).toBe(0);
    expect(view.byAttempt).toEqual([
      { attempt: 1, lines: 12, first: 0, last: 11 },
      { attempt: 2, lines: 18, first: 12, last: 29 },
    ]);
    // maxRetries 1, and both attempts made progress: each gave its retry back.
    expect(view.attempts).toBe(2);
    expect(view.maxRetries).toBe(3);
  });
});
