import { describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { Job, JobsService, JobsWorkerStatus } from 'nest-jobs';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { waitForStatus } from '../../support/jobs-table.js';
import { waitFor } from '../../support/wait-for.js';

@Injectable()
class CheckedJobs {
  @Job({ name: 'checked.noop', queue: 'checked' })
  async noop() {}
}

const CHECK_MS = 300;

/** The start-up LISTEN check on a direct connection (the PgBouncer suite has the pooler side). */
describe('the LISTEN check', () => {
  const suite = useJobsSuite('listen_check');

  it('passes on a direct connection: no warning, the worker keeps listening', async () => {
    const app = await suite.app({
      providers: [CheckedJobs],
      jobs: { database: { listenCheckMs: CHECK_MS } },
    });
    const startedAt = Date.now();
    // Absence of the warning can only be seen once the bound has passed.
    await waitFor(
      'the check bound to pass',
      () => Date.now() > startedAt + 3 * CHECK_MS,
    );
    expect(
      app.logger.messages('warn').filter((line) => line.includes('LISTEN')),
    ).toEqual([]);
    expect(app.get(JobsWorkerStatus).snapshot().listening).toBe(true);
  });

  it('a directUrl to another database: one warning that says to check it, then polling works', async () => {
    const elsewhere = new URL(suite.db.url);
    elsewhere.pathname = '/postgres';
    const app = await suite.app({
      providers: [CheckedJobs],
      jobs: {
        worker: { pollIntervalMs: 100 },
        database: { listenCheckMs: CHECK_MS, directUrl: elsewhere.toString() },
      },
    });
    const warnings = () =>
      app.logger
        .messages('warn')
        .filter((line) => line.includes('LISTEN delivered'));
    await waitFor('the warning', () => warnings().length === 1);
    expect(warnings()[0]).toContain('database.directUrl is set');
    expect(app.get(JobsWorkerStatus).snapshot().listening).toBe(false);
    const id = await app.get(JobsService).enqueue('checked.noop', {});
    await waitForStatus(suite.db, id, 'completed');
  });
});
