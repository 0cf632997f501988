import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Job, JobsModule, JobsService } from 'nest-jobs';
import { EventLog } from '../../support/event-log.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import {
  insertJobRow,
  jobRows,
  waitForStatus,
} from '../../support/jobs-table.js';

const WAIT = { timeoutMs: 30_000 };

const sent: string[] = [];

@Injectable()
class Mail {
  @Job({ name: 'mail.send', queue: 'emails.default' })
  async send(_payload: unknown, ctx: { queue: string }) {
    sent.push(ctx.queue);
  }
}

/** worker.queues patterns: queues that need no set-up, found as their jobs appear. */
describe('queue groups by pattern', () => {
  const suite = useJobsSuite('queue-patterns', { clearJobsAfterEach: true });
  const { db } = suite;

  const app = (wakeUps: 'listen' | 'poll', pollIntervalMs: number) =>
    suite.app({
      providers: [Mail, EventLog],
      jobsModule: JobsModule.forRoot({
        runMigrations: true,
        database: { wakeUps },
        worker: { queues: ['emails.*'], pollIntervalMs },
      }),
    });

  it('works every queue its pattern matches, as soon as one of its jobs is enqueued here or announced; not the others', async () => {
    const a = await app('listen', 600_000);
    const jobs = a.get(JobsService);
    const eu = await jobs.enqueue('mail.send', {}, { queue: 'emails.eu' });
    const us = await jobs.enqueue('mail.send', {}, { queue: 'emails.us' });
    const other = await jobs.enqueue('mail.send', {}, { queue: 'sms' });
    // A job another process enqueued, announced by NOTIFY only.
    const announced = await insertJobRow(db, {
      job_type: 'mail.send',
      queue: 'emails.apac',
    });
    await db.query(`SELECT pg_notify('nest_jobs', 'emails.apac')`);
    for (const id of [eu, us, announced.id])
      await waitForStatus(db, id, 'completed', WAIT);
    expect(sent.sort()).toEqual(['emails.apac', 'emails.eu', 'emails.us']);
    expect(
      (await jobRows(db, 'id = $1', [other])).map((r) => r.status),
    ).toEqual(['pending']);
    expect(
      a
        .get(EventLog)
        .of('worker.queue-added')
        .map((e) => e.queue)
        .sort(),
    ).toEqual(['emails.apac', 'emails.eu', 'emails.us']);
    sent.length = 0;
  }, 60_000);

  it('polling only: finds the matching queues with pending jobs at each poll', async () => {
    await app('poll', 100);
    const late = await insertJobRow(db, {
      job_type: 'mail.send',
      queue: 'emails.late',
    });
    await insertJobRow(db, { job_type: 'mail.send', queue: 'other' });
    await waitForStatus(db, late.id, 'completed', WAIT);
    expect(sent).toEqual(['emails.late']);
    sent.length = 0;
  }, 60_000);
});
