import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Job, JobsService, type JobContext } from 'nest-jobs';
import { createJobsApp, type JobsApp } from '../support/jobs-app.js';
import { jobRow } from '../support/jobs-table.js';
import {
  createTestDatabase,
  type TestDatabase,
} from '../support/test-database.js';
import { waitFor } from '../support/wait-for.js';

@Injectable()
class Greeter {
  readonly seen: string[] = [];
  @Job({ queue: 'greetings' })
  async greet(payload: { who: string }, ctx: JobContext) {
    this.seen.push(`${payload.who}@${ctx.attempt}`);
  }
}

describe('smoke', () => {
  let db: TestDatabase;
  let app: JobsApp;
  beforeAll(async () => {
    db = await createTestDatabase('smoke');
    app = await createJobsApp(db, { providers: [Greeter] });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('enqueues and runs a job', async () => {
    const id = await app
      .get(JobsService)
      .enqueue(Greeter, 'greet', { who: 'ada' });
    await waitFor(
      'completion',
      async () => (await jobRow(db, id))?.status === 'completed',
    );
    expect(app.get(Greeter).seen).toEqual(['ada@1']);
  });
});
