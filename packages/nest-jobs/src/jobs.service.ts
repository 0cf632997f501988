import { Inject, Injectable, type Type } from '@nestjs/common';
import type {
  EnqueueOptions,
  JobRequest,
} from './enqueue/enqueue-options.interface.js';
import { JobWriter } from './enqueue/job-writer.js';
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
import { JOBS_RESOLVED_OPTIONS } from './jobs.constants.js';
import type { ResolvedJobsOptions } from './jobs.options.js';

/** Names of the methods of `T` (candidates for `@Job()` handlers). */
export type JobMethodKeys<T> = {
  [K in keyof T]: T[K] extends (...args: any[]) => unknown ? K : never;
}[keyof T] &
  string;

/**
 * The payload type of handler `T[K]`: its first parameter, when the handler can receive it
 * as declared. A payload travels as JSON, so a handler whose parameter holds a `Date` (it
 * receives a string), Map, Set, BigInt, function or binary data gets `NonJsonPayload`,
 * which no value matches: declare what JSON makes of it instead.
 */
export type JobPayload<T, K extends keyof T> = T[K] extends (
  payload: infer P,
  ...rest: any[]
) => unknown
  ? true extends HoldsNonJson<P, []>
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
  ) {}

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
    const byClass = typeof args[0] === 'function';
    const [name, definition] = this.jobs.resolve(
      args[0],
      byClass ? args[1] : undefined,
    );
    const payload = byClass ? args[2] : args[1];
    const options = (byClass ? args[3] : args[2]) as EnqueueOptions | undefined;
    const { manager, ...rest } = splitOptions(options);
    const [id] = await this.write(
      [prepareJob(name, definition, payload, rest, this.options)],
      manager,
    );
    return id!;
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
    if (Array.isArray(args[0])) {
      return this.enqueueRequests(
        args[0] as JobRequest[],
        args[1] as Pick<EnqueueOptions, 'manager'> | undefined,
      );
    }
    const byClass = typeof args[0] === 'function';
    const [name, definition] = this.jobs.resolve(
      args[0],
      byClass ? args[1] : undefined,
    );
    const payloads = byClass ? args[2] : args[1];
    if (!Array.isArray(payloads)) {
      throw new InvalidJobsOptionError(
        'payloads',
        payloads,
        'expected an array of payloads',
      );
    }
    const { manager, ...rest } = splitOptions(byClass ? args[3] : args[2]);
    const template = prepareTemplate(name, definition, rest, this.options);
    const prepared = payloads.map((payload, index) =>
      prepareRow(template, payload, this.options, 'payloads', index),
    );
    return this.write(prepared, manager);
  }

  /** Writes once every `validate` verdict is in: a refused payload writes nothing of the call. */
  private async write(
    prepared: readonly PreparedJob[],
    manager: EnqueueOptions['manager'],
  ): Promise<string[]> {
    await settleValidations(prepared);
    return this.writer.write(prepared, manager);
  }

  private enqueueRequests(
    requests: JobRequest[],
    options: Pick<EnqueueOptions, 'manager'> | undefined,
  ): Promise<string[]> {
    checkRequestsOptions(options);
    const prepared = requests.map((request, index) => {
      if (typeof request !== 'object' || request === null) {
        throw new InvalidJobsOptionError(
          `jobs[${index}]`,
          request,
          'expected { name, payload, ...options }',
        );
      }
      let name: unknown, payload: unknown, rest: Record<string, unknown>;
      try {
        ({ name, payload, ...rest } = request);
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
      );
    });
    return this.write(prepared, options?.manager);
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
