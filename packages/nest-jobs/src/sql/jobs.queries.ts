import type { JobsTable } from './jobs-table.js';
import { jobClaimQueries } from './queries/job-claim.queries.js';
import { jobControlQueries } from './queries/job-control.queries.js';
import { jobInsertQueries } from './queries/job-insert.queries.js';
import { jobOrderedQueries } from './queries/job-ordered.queries.js';
import { jobOutcomeQueries } from './queries/job-outcome.queries.js';
import { jobReadQueries } from './queries/job-read.queries.js';
import { jobRescueQueries } from './queries/job-rescue.queries.js';
import { jobRetentionQueries } from './queries/job-retention.queries.js';
import { jobTestingQueries } from './queries/job-testing.queries.js';
import { jobTransactionQueries } from './queries/job-transaction.queries.js';
import { notifyQueries } from './queries/notify.queries.js';
import { queueQueries } from './queries/queue.queries.js';
import { scheduleQueries } from './queries/schedule.queries.js';
import { schemaStateQueries } from './queries/schema-state.queries.js';

/**
 * Every statement nest-jobs runs at run time (DDL lives in ./migrations), built once per
 * table: the one list of statement names, each documented with its parameters where its
 * aggregate's builder (./queries) defines it.
 */
export function buildJobsQueries(jobs: JobsTable) {
  return {
    ...jobInsertQueries(jobs),
    ...jobClaimQueries(jobs),
    ...jobOrderedQueries(jobs),
    ...jobOutcomeQueries(jobs),
    ...jobTransactionQueries(jobs),
    ...jobRescueQueries(jobs),
    ...jobRetentionQueries(jobs),
    ...jobControlQueries(jobs),
    ...jobReadQueries(jobs),
    ...notifyQueries(jobs),
    ...queueQueries(jobs),
    ...scheduleQueries(jobs),
    ...schemaStateQueries(jobs),
    ...jobTestingQueries(jobs),
  };
}

/** The statements of one table, by name (see buildJobsQueries). */
export type JobsQueries = Readonly<ReturnType<typeof buildJobsQueries>>;
