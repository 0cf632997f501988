import { Inject, Injectable, type Type } from '@nestjs/common';
import type {
  EnqueueOptions,
  JobRequest,
} from './enqueue/enqueue-options.interface.js';
import type { EnqueueOutcome } from './enqueue/enqueue-outcome.interface.js';
import { JobWriter } from './enqueue/job-writer.js';
import { looksLikeList, readCallerList } from './enqueue/caller-list.js';
import {
  prepareJob,
  prepareRow,
  prepareTemplate,
  settleValidations,
  type PreparedJob,
} from './enqueue/prepare-job.js';
import { InvalidJobsOptionError } from './errors/invalid-options.error.js';
import { describeError } from './utils/describe-error.js';
import { JobResolver } from './handlers/job-resolver.js';
import { JobControl, type JobControlOptions } from './admin/job-control.js';
import { JobsClock } from './clock/jobs-clock.js';
import { JOBS_RESOLVED_OPTIONS } from './jobs.constants.js';
import type { ResolvedJobsOptions } from './jobs.options.js';

/** Names of the methods of `T` (candidates for `@Job()` handlers). */
export type JobMethodKeys<T> = {
  [K in keyof T]: T[K] extends (...args: any[]) => unknown ? K : never;
}[keyof T] &
  string;

/**
 * The payload type of handler `T[K]`: its first parameter, when the handler can receive it
 * as declared. A handler whose parameter is a `Buffer` (or `Uint8Array`) takes a binary
 * payload: any `Uint8Array`, stored as bytes, received as a `Buffer`. Any other payload
 * travels as JSON, so a handler whose parameter holds a `Date` (it receives a string),
 * Map, Set, BigInt, function or binary data inside an object gets `NonJsonPayload`, which
 * no value matches: declare what JSON makes of it instead.
 */
export type JobPayload<T, K extends keyof T> = T[K] extends (
  payload: infer P,
  ...rest: any[]
) => unknown
  ? 0 extends 1 & P
    ? P
    : [P] extends [Uint8Array]
      ? Uint8Array
      : true extends HoldsNonJson<P, []>
        ? NonJsonPayload
        : P
  : never;

/**
 * What the typed `enqueue` asks for when the handler's payload type holds a value JSON does
 * not carry as such; its one property is the compiler's error message.
 */
export interface NonJsonPayload {
  readonly 'nest-jobs: the handler would not receive this payload type: a Date arrives as its ISO string, and a Map, Set, BigInt, function or binary value is refused; declare the JSON type in the handler': never;
}

/** Values JSON does not carry as they are (see the manual, section 4). */
type NonJson =
  | Date
  | ReadonlyMap<unknown, unknown>
  | ReadonlySet<unknown>
  | bigint
  | symbol
  | ((...args: never[]) => unknown)
  | ArrayBufferView
  | ArrayBuffer;

/**
 * `true` (possibly in a union with `false`) when `P` holds a `NonJson` at any depth, looked
 * at down to 8 levels so recursive types end. `any` and `unknown` hold nothing.
 */
type HoldsNonJson<P, Depth extends unknown[]> = Depth['length'] extends 8
  ? false
  : 0 extends 1 & P
    ? false
    : P extends NonJson
      ? true
      : P extends readonly (infer E)[]
        ? HoldsNonJson<E, [...Depth, 1]>
        : P extends object
          ? {
              [Key in keyof P]-?: HoldsNonJson<P[Key], [...Depth, 1]>;
            }[keyof P]
          : false;

/**
 * Enqueues jobs. Inject it anywhere (it is exported by JobsModule).
 *
 * ```ts
 * await jobs.enqueue(Mailer, 'sendWelcome', { email });              // typed by the handler
 * await jobs.enqueue('Mailer.sendWelcome', { email });               // by name (dynamic)
 * await dataSource.transaction((manager) =>
 *   jobs.enqueue(Mailer, 'sendWelcome', { email }, { manager }));    // inside a transaction
 * ```
 * Each method checks everything before anything is written, then hands the rows to the
 * writer; the overloads only differ in how they name the job.
 */
@Injectable()
export class JobsService {
  constructor(
    @Inject(JOBS_RESOLVED_OPTIONS)
    private readonly options: ResolvedJobsOptions,
    private readonly jobs: JobResolver,
    private readonly writer: JobWriter,
    private readonly control: JobControl,
    private readonly clock: JobsClock,
  ) {}

  /**
   * Cancels a pending or running job (JobControl#cancel, which has the other operator
   * actions: retry, redrive, delete, run now).
   * @throws JobNotFoundError, JobStateError (the job is already finished), InvalidJobIdError.
   */
  cancel(id: string, options?: JobControlOptions): Promise<void> {
    return this.control.cancel(id, options);
  }

  /**
   * Puts a failed or cancelled job back to pending now (JobControl#retry: one more attempt
   * when its retries were spent).
   * @throws JobNotFoundError, JobStateError, InvalidJobIdError.
   */
  retry(id: string, options?: JobControlOptions): Promise<void> {
    return this.control.retry(id, options);
  }

  /**
   * Enqueues one job and returns its id. The payload type is checked against the handler's
   * first parameter. With `options.manager` the row is written inside that transaction.
   */
  enqueue<T extends object, K extends JobMethodKeys<T>>(
    handler: Type<T>,
    method: K,
    payload: JobPayload<T, K>,
    options?: EnqueueOptions,
  ): Promise<string>;
  /** Enqueues one job by name (for dynamic cases) and returns its id. */
  enqueue(
    name: string,
    payload: unknown,
    options?: EnqueueOptions,
  ): Promise<string>;
  async enqueue(...args: unknown[]): Promise<string> {
    const [prepared, manager] = this.prepareOne(args);
    await settleValidations(prepared);
    const [id] = await this.writer.write(prepared, manager);
    return id!;
  }

  /**
   * `enqueue`, reporting whether the job was a duplicate of a unique job (see
   * `EnqueueOptions.unique`) along with its id, learnt in the insert's own round trip.
   */
  enqueueWithOutcome<T extends object, K extends JobMethodKeys<T>>(
    handler: Type<T>,
    method: K,
    payload: JobPayload<T, K>,
    options?: EnqueueOptions,
  ): Promise<EnqueueOutcome>;
  /** `enqueue` by name, reporting whether the job was a duplicate along with its id. */
  enqueueWithOutcome(
    name: string,
    payload: unknown,
    options?: EnqueueOptions,
  ): Promise<EnqueueOutcome>;
  async enqueueWithOutcome(...args: unknown[]): Promise<EnqueueOutcome> {
    const [prepared, manager] = this.prepareOne(args);
    await settleValidations(prepared);
    const [outcome] = await this.writer.writeWithOutcomes(prepared, manager);
    return outcome!;
  }

  private prepareOne(
    args: unknown[],
  ): [PreparedJob[], EnqueueOptions['manager']] {
    const byClass = typeof args[0] === 'function';
    const [name, definition] = this.jobs.resolve(
      args[0],
      byClass ? args[1] : undefined,
    );
    const payload = byClass ? args[2] : args[1];
    const options = (byClass ? args[3] : args[2]) as EnqueueOptions | undefined;
    const { manager, ...rest } = splitOptions(options);
    return [
      [
        prepareJob(
          name,
          definition,
          payload,
          rest,
          this.options,
          '',
          undefined,
          -1,
          this.clock.now(),
        ),
      ],
      manager,
    ];
  }

  /** Enqueues one job per payload of the same handler in one round trip; returns the ids in order. */
  enqueueMany<T extends object, K extends JobMethodKeys<T>>(
    handler: Type<T>,
    method: K,
    payloads: readonly JobPayload<T, K>[],
    options?: EnqueueOptions,
  ): Promise<string[]>;
  /** Enqueues one job per payload of the named job in one round trip; returns the ids in order. */
  enqueueMany(
    name: string,
    payloads: readonly unknown[],
    options?: EnqueueOptions,
  ): Promise<string[]>;
  /** Enqueues jobs of any names in one round trip; returns the ids in order. */
  enqueueMany(
    jobs: readonly JobRequest[],
    options?: Pick<EnqueueOptions, 'manager'>,
  ): Promise<string[]>;
  async enqueueMany(...args: unknown[]): Promise<string[]> {
    const [prepared, manager] = this.prepareMany(args);
    await settleValidations(prepared);
    return this.writer.write(prepared, manager);
  }

  /** `enqueueMany` of one handler, reporting per payload its job's id and whether it was a duplicate. */
  enqueueManyWithOutcome<T extends object, K extends JobMethodKeys<T>>(
    handler: Type<T>,
    method: K,
    payloads: readonly JobPayload<T, K>[],
    options?: EnqueueOptions,
  ): Promise<EnqueueOutcome[]>;
  /** `enqueueMany` by name, reporting per payload its job's id and whether it was a duplicate. */
  enqueueManyWithOutcome(
    name: string,
    payloads: readonly unknown[],
    options?: EnqueueOptions,
  ): Promise<EnqueueOutcome[]>;
  /** `enqueueMany` of mixed jobs, reporting per job its id and whether it was a duplicate. */
  enqueueManyWithOutcome(
    jobs: readonly JobRequest[],
    options?: Pick<EnqueueOptions, 'manager'>,
  ): Promise<EnqueueOutcome[]>;
  async enqueueManyWithOutcome(...args: unknown[]): Promise<EnqueueOutcome[]> {
    const [prepared, manager] = this.prepareMany(args);
    await settleValidations(prepared);
    return this.writer.writeWithOutcomes(prepared, manager);
  }

  /** Checks everything of an enqueueMany call before anything is written. */
  private prepareMany(
    args: unknown[],
  ): [PreparedJob[], EnqueueOptions['manager']] {
    if (looksLikeList(args[0])) {
      const options = args[1] as Pick<EnqueueOptions, 'manager'> | undefined;
      return [
        this.prepareRequests(readCallerList(args[0], 'jobs'), options),
        options?.manager,
      ];
    }
    const byClass = typeof args[0] === 'function';
    const [name, definition] = this.jobs.resolve(
      args[0],
      byClass ? args[1] : undefined,
    );
    const payloads = readCallerList(byClass ? args[2] : args[1], 'payloads');
    const { manager, ...rest } = splitOptions(byClass ? args[3] : args[2]);
    const template = prepareTemplate(
      name,
      definition,
      rest,
      this.options,
      '',
      this.clock.now(),
    );
    const prepared = payloads.map((payload, index) =>
      prepareRow(template, payload, this.options, 'payloads', index),
    );
    return [prepared, manager];
  }

  private prepareRequests(
    requests: readonly unknown[],
    options: Pick<EnqueueOptions, 'manager'> | undefined,
  ): PreparedJob[] {
    checkRequestsOptions(options);
    const nowMs = this.clock.now();
    return requests.map((request, index) => {
      if (typeof request !== 'object' || request === null) {
        throw new InvalidJobsOptionError(
          `jobs[${index}]`,
          request,
          'expected { name, payload, ...options }',
        );
      }
      let name: unknown, payload: unknown, rest: Record<string, unknown>;
      try {
        ({ name, payload, ...rest } = request as JobRequest);
      } catch (error) {
        throw new InvalidJobsOptionError(
          `jobs[${index}]`,
          request,
          `expected { name, payload, ...options } that can be read, but reading it threw: ${describeError(error)}`,
        );
      }
      const [jobName, definition] = this.jobs.resolve(
        name,
        undefined,
        `jobs[${index}].name`,
      );
      return prepareJob(
        jobName,
        definition,
        payload,
        rest,
        this.options,
        `jobs[${index}].`,
        'jobs',
        index,
        nowMs,
      );
    });
  }
}

/**
 * The options of a call, `manager` apart from the rest (a shallow copy: the caller's object
 * is read once). Options that throw when read are an `InvalidJobsOptionError`.
 */
function splitOptions(options: unknown): EnqueueOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object')
    throw new InvalidJobsOptionError('options', options, 'expected an object');
  try {
    return { ...(options as EnqueueOptions) };
  } catch (error) {
    throw new InvalidJobsOptionError(
      'options',
      options,
      `expected options that can be read, but reading them threw: ${describeError(error)}`,
    );
  }
}

/**
 * `enqueueMany(jobs, options)` takes only `manager` for the whole call: every other option
 * belongs to one job, and silently ignoring it (a `delay` that never applies) is refused.
 */
function checkRequestsOptions(options: unknown): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null) {
    throw new InvalidJobsOptionError(
      'options',
      options,
      'expected { manager } or nothing',
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== 'manager') {
      throw new InvalidJobsOptionError(
        key,
        (options as Record<string, unknown>)[key],
        'does not apply to enqueueMany(jobs, options), whose options take only manager: give it in each job ({ name, payload, ' +
          key +
          ' })',
      );
    }
  }
}
