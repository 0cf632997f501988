import type { INestApplicationContext, Type } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { checkJobId } from '../admin/job-filter.js';
import type { JobView } from '../admin/job-view.js';
import { JobsClock } from '../clock/jobs-clock.js';
import { serializePayload } from '../enqueue/payload-serializer.js';
import { FINISHED_STATUSES, JobStatus } from '../enums/job-status.enum.js';
import { JobsAssertionError } from '../errors/jobs-assertion.error.js';
import { JobsEvents } from '../events/jobs-events.js';
import { JobHandlerRegistry } from '../handlers/job-handler.registry.js';
import { JobResolver } from '../handlers/job-resolver.js';
import { JOBS_RESOLVED_OPTIONS } from '../jobs.constants.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import type { JobMethodKeys, JobPayload } from '../jobs.service.js';
import { JobTestingRepository } from '../sql/job-testing.repository.js';
import { JobsRepository } from '../sql/jobs.repository.js';
import {
  checkInteger,
  checkName,
  checkPlainObject,
  optionError,
} from '../utils/option-checks.js';
import type {
  DrainOptions,
  DrainResult,
} from '../worker/drain-options.interface.js';
import { JobsWorker } from '../worker/jobs.worker.js';
import { describeJobs, json } from './describe-jobs.js';
import { pollUntil } from './poll-until.js';
import {
  performJob,
  type PerformJobOptions,
  type PerformJobResult,
} from './perform-job.js';
import { TestClock } from './test-clock.js';

/** Any part of a payload: what `expectEnqueued` matches with jsonb containment (`@>`). */
export type PartialPayload<P> = P extends readonly (infer E)[]
  ? readonly PartialPayload<E>[]
  : P extends object
    ? { readonly [K in keyof P]?: PartialPayload<P[K]> }
    : P;

/** A job as the table holds it, its payload typed by its handler. */
export type EnqueuedJob<P = unknown> = Omit<JobView, 'payload'> & {
  readonly payload: P;
};

/** A job state, as the enum or its string. */
export type JobStatusName = JobStatus | `${JobStatus}`;

/** Where `expectEnqueued` and `expectNotEnqueued` look. */
export interface ExpectEnqueuedOptions {
  /** Only jobs of this queue. Default: any. */
  queue?: string;
  /** Only jobs in these states. Default `pending` (scheduled ones included). */
  status?: JobStatusName | readonly JobStatusName[];
  /** Read inside this transaction: sees its uncommitted enqueues. */
  manager?: EntityManager;
  /** Exactly this many matching jobs (expectEnqueued). Default: at least one. */
  count?: number;
}

/** What `waitForJob` waits for. */
export interface WaitForJobOptions {
  /** The states to wait for. Default: finished (completed, failed or cancelled). */
  status?: JobStatusName | readonly JobStatusName[];
  /** Deadline in milliseconds. Default 10000. */
  timeoutMs?: number;
  /** Only jobs of this queue (filter form). */
  queue?: string;
}

const DEFAULT_WAIT_MS = 10_000;
/** Most matching jobs an assertion reads. */
const FOUND_LIMIT = 100;
const EXPECT_KEYS = ['queue', 'status', 'manager', 'count'];
const WAIT_KEYS = ['status', 'timeoutMs', 'queue'];

/**
 * Helpers for tests of an app that uses nest-jobs, bound to one app (its JobsModule):
 * `drain`, `performJob`, `expectEnqueued`, `expectNotEnqueued`, `waitForJob`, and `clock`.
 * No test framework is needed: a failed assertion throws JobsAssertionError with a message
 * that lists what was found and how it differs.
 *
 * ```ts
 * const jobs = JobsTesting.from(app);
 * await request(app.getHttpServer()).post('/users').send({ email }).expect(201);
 * await jobs.expectEnqueued(WelcomeEmail, 'send', { email });
 * await jobs.drain();
 * ```
 */
export class JobsTesting {
  /** The app's clock (see TestClock). */
  readonly clock: TestClock;
  private readonly testing: JobTestingRepository;

  private constructor(
    private readonly worker: JobsWorker,
    private readonly resolver: JobResolver,
    private readonly registry: JobHandlerRegistry,
    private readonly events: JobsEvents,
    private readonly options: ResolvedJobsOptions,
    repository: JobsRepository,
    clock: JobsClock,
  ) {
    this.clock = new TestClock(clock);
    this.testing = new JobTestingRepository(repository);
  }

  /** The helpers of `app`'s JobsModule (an app, or a compiled TestingModule). */
  static from(app: INestApplicationContext): JobsTesting {
    const find = <T>(token: Type<T> | symbol): T =>
      app.get(token, { strict: false });
    return new JobsTesting(
      find(JobsWorker),
      find(JobResolver),
      find(JobHandlerRegistry),
      find(JobsEvents),
      find<ResolvedJobsOptions>(JOBS_RESOLVED_OPTIONS),
      find(JobsRepository),
      find(JobsClock),
    );
  }

  /**
   * Runs every due job now, in this process, one at a time, until none is due (jobs the
   * drained jobs enqueue included, unless `follow: false`), and says how each attempt ended.
   * Expired leases (by the clock) are rescued first.
   * @throws WorkerModeError when the worker runs on its own (use withManualWorker, or
   * `worker: { mode: 'manual' }`); InvalidJobsOptionError naming a bad option.
   */
  drain(options?: DrainOptions): Promise<DrainResult> {
    return this.worker.runDue(options);
  }

  /**
   * Runs `handler.method` once with `payload` and a real JobContext, without a queue or a
   * row: resolves with how it ended and what it returned; rejects with what it threw.
   * @throws JobDefinitionError when the method has no `@Job()`; UnknownJobError when its
   * class is not a provider of the app; InvalidPayloadError for a payload enqueue refuses.
   */
  async performJob<T extends object, K extends JobMethodKeys<T>>(
    handler: Type<T>,
    method: K,
    payload: JobPayload<T, K>,
    options?: PerformJobOptions,
  ): Promise<
    PerformJobResult<T[K] extends (...args: any[]) => infer R ? R : unknown>
  > {
    const [, definition] = this.resolver.resolve(handler, method);
    return (await performJob(
      this.registry,
      this.events,
      this.options,
      definition!,
      payload,
      options,
    )) as any;
  }

  /**
   * Asserts that a job of `handler.method` was enqueued (pending, by default) whose payload
   * contains `payload` (jsonb `@>`: the given keys, at any depth; arrays by element), and
   * returns the oldest such job.
   * @throws JobsAssertionError listing the jobs of that name found, and how each differs.
   */
  expectEnqueued<T extends object, K extends JobMethodKeys<T>>(
    handler: Type<T>,
    method: K,
    payload?: PartialPayload<JobPayload<T, K>>,
    options?: ExpectEnqueuedOptions,
  ): Promise<EnqueuedJob<JobPayload<T, K>>>;
  /** `expectEnqueued` of a job by name. */
  expectEnqueued(
    name: string,
    payload?: unknown,
    options?: ExpectEnqueuedOptions,
  ): Promise<EnqueuedJob>;
  async expectEnqueued(...args: unknown[]): Promise<EnqueuedJob> {
    const query = this.readQuery(args);
    const found = await this.find(query);
    const count = query.options.count;
    if (count === undefined ? found.length > 0 : found.length === count)
      return found[0]!;
    const all = await this.find({
      ...query,
      payloadJson: null,
      payload: undefined,
    });
    throw new JobsAssertionError(
      `expectEnqueued: expected ${count === undefined ? 'a' : count} ${query.statuses.join('/')} job${count === undefined || count === 1 ? '' : 's'} "${query.name}"` +
        `${query.queue === null ? '' : ` in queue ${query.queue}`}` +
        `${query.payload === undefined ? '' : ` whose payload contains ${json(query.payload)}`}, ` +
        `found ${found.length}.\n` +
        (all.length === 0
          ? `No ${query.statuses.join('/')} job of that name at all.`
          : `${query.statuses.join('/')} jobs of that name:\n${describeJobs(all, query.payload)}`),
      {
        name: query.name,
        payload: query.payload,
        count: count ?? 'at least 1',
      },
      all,
    );
  }

  /**
   * Asserts that no job of `handler.method` whose payload contains `payload` is enqueued
   * (pending, by default).
   * @throws JobsAssertionError listing the jobs that match.
   */
  expectNotEnqueued<T extends object, K extends JobMethodKeys<T>>(
    handler: Type<T>,
    method: K,
    payload?: PartialPayload<JobPayload<T, K>>,
    options?: Omit<ExpectEnqueuedOptions, 'count'>,
  ): Promise<void>;
  /** `expectNotEnqueued` of a job by name. */
  expectNotEnqueued(
    name: string,
    payload?: unknown,
    options?: Omit<ExpectEnqueuedOptions, 'count'>,
  ): Promise<void>;
  async expectNotEnqueued(...args: unknown[]): Promise<void> {
    const query = this.readQuery(args);
    if (query.options.count !== undefined)
      throw optionError(
        'count',
        query.options.count,
        'does not apply to expectNotEnqueued',
      );
    const found = await this.find(query);
    if (found.length === 0) return;
    throw new JobsAssertionError(
      `expectNotEnqueued: expected no ${query.statuses.join('/')} job "${query.name}"` +
        `${query.payload === undefined ? '' : ` whose payload contains ${json(query.payload)}`}, found ${found.length}:\n` +
        describeJobs(found, undefined),
      { name: query.name, payload: query.payload, count: 0 },
      found,
    );
  }

  /**
   * Waits, by reading the row (so whatever ran it and whenever: no event can be missed),
   * until job `id` is in one of `options.status` (default: finished), or, in the filter
   * form, until a job of `handler.method` whose payload contains `payload` is; returns it.
   * For tests whose worker runs on its own; with a manual worker, drain instead.
   * @throws JobsAssertionError at the deadline, saying where the job is.
   */
  waitForJob(id: string, options?: WaitForJobOptions): Promise<JobView>;
  waitForJob<T extends object, K extends JobMethodKeys<T>>(
    handler: Type<T>,
    method: K,
    payload?: PartialPayload<JobPayload<T, K>>,
    options?: WaitForJobOptions,
  ): Promise<EnqueuedJob<JobPayload<T, K>>>;
  async waitForJob(...args: unknown[]): Promise<JobView> {
    const byId = typeof args[0] !== 'function';
    const raw = checkPlainObject(
      'options',
      (byId ? args[1] : args[3]) ?? {},
      WAIT_KEYS,
    ) as WaitForJobOptions;
    const statuses = checkStatuses(raw.status, FINISHED_STATUSES);
    const timeoutMs =
      raw.timeoutMs === undefined
        ? DEFAULT_WAIT_MS
        : checkInteger('timeoutMs', raw.timeoutMs, 1);
    if (byId) {
      const id = checkJobId(args[0]);
      let last: JobView | undefined;
      return pollUntil(
        async () => {
          [last] = await this.testing.findJob(id);
          return last && statuses.includes(last.status) ? last : undefined;
        },
        timeoutMs,
        async () =>
          new JobsAssertionError(
            `waitForJob: job ${id} did not become ${statuses.join(' or ')} within ${timeoutMs} ms; ` +
              (last
                ? `it is ${last.status} (attempts ${last.attempts}, run_at ${last.runAt.toISOString()}` +
                  `${last.lastError ? `, last error: ${last.lastError.split('\n')[0]}` : ''})`
                : 'no such job exists'),
            { id, status: statuses },
            last ?? null,
          ),
      );
    }
    const query = this.readQuery([
      args[0],
      args[1],
      args[2],
      { queue: raw.queue, status: statuses },
    ]);
    return pollUntil(
      async () => (await this.find(query))[0],
      timeoutMs,
      async () => {
        const all = await this.find({
          ...query,
          statuses: Object.values(JobStatus),
          payloadJson: null,
          payload: undefined,
        });
        return new JobsAssertionError(
          `waitForJob: no job "${query.name}"${query.payload === undefined ? '' : ` whose payload contains ${json(query.payload)}`} ` +
            `became ${statuses.join(' or ')} within ${timeoutMs} ms.\n` +
            (all.length === 0
              ? 'No job of that name at all.'
              : `Jobs of that name:\n${describeJobs(all, query.payload)}`),
          { name: query.name, payload: query.payload, status: statuses },
          all,
        );
      },
    );
  }

  /** The arguments of the assertion forms: (handler, method, payload?, options?) or (name, payload?, options?). */
  private readQuery(args: unknown[]): JobsQuery {
    const byClass = typeof args[0] === 'function';
    const [name] = this.resolver.resolve(
      args[0],
      byClass ? args[1] : undefined,
    );
    const payload = byClass ? args[2] : args[1];
    const options = checkPlainObject(
      'options',
      (byClass ? args[3] : args[2]) ?? {},
      EXPECT_KEYS,
    ) as ExpectEnqueuedOptions;
    if (options.count !== undefined)
      checkInteger('count', options.count, 0, FOUND_LIMIT);
    return {
      name,
      payload,
      payloadJson:
        payload === undefined
          ? null
          : serializePayload(name, payload, this.options.maxPayloadBytes),
      statuses: checkStatuses(options.status, [JobStatus.Pending]),
      queue:
        options.queue === undefined ? null : checkName('queue', options.queue),
      options,
    };
  }

  private async find(query: JobsQuery): Promise<EnqueuedJob[]> {
    return this.testing.findJobs(
      {
        name: query.name,
        statuses: query.statuses,
        queue: query.queue,
        payloadJson: query.payloadJson,
        limit: FOUND_LIMIT,
      },
      query.options.manager,
    );
  }
}

/** An assertion's arguments, checked. */
interface JobsQuery {
  readonly name: string;
  readonly payload: unknown;
  readonly payloadJson: string | null;
  readonly statuses: readonly string[];
  readonly queue: string | null;
  readonly options: ExpectEnqueuedOptions;
}

function checkStatuses(value: unknown, fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback];
  const list = Array.isArray(value) ? value : [value];
  const known: readonly string[] = Object.values(JobStatus);
  if (list.length === 0 || list.some((status) => !known.includes(status)))
    throw optionError(
      'status',
      value,
      `expected one of ${known.join(', ')}, or a non-empty array of them`,
    );
  return list as string[];
}
