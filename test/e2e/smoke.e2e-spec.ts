import { beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Job, JobsService, type JobContext } from 'nest-jobs';
import { useJobsSuite, type SuiteApp } from '../support/jobs-suite.js';
import { waitForStatus } from '../support/jobs-table.js';

@Injectable()
class Greeter {
  readonly seen: string[] = [];
  @Job({ queue: 'greetings' })
  async greet(payload: { who: string }, ctx: JobContext) {
    this.seen.push(`${payload.who}@${ctx.attempt}`);
  }
}

describe('smoke', () => {
  const suite = useJobsSuite('smoke');
  const { db } = suite;
  let app: SuiteApp;
  beforeAll(async () => {
    app = await suite.app({ providers: [Greeter] });
  });

  it('enqueues and runs a job', async () => {
    const id = await app
      .get(JobsService)
      .enqueue(Greeter, 'greet', { who: 'ada' });
    await waitForStatus(db, id, 'completed');
    expect(app.get(Greeter).seen).toEqual(['ada@1']);
  });
});
