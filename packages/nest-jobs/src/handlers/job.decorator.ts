import 'reflect-metadata';
import { JOB_METADATA } from '../jobs.constants.js';
import type { TransactionalJobContext } from './job-context.interface.js';
import type { JobOptions } from './job-options.interface.js';

/** What `@Job()` records on the method; validated later, at start-up, by the explorer. */
export interface JobMetadata {
  readonly options: JobOptions;
  /** `ClassName.methodName`: the job name when `options.name` is not set. */
  readonly defaultName: string;
  /** `ClassName#methodName`, for error messages. */
  readonly handlerName: string;
}

/**
 * The shape every job handler has: `(payload, ctx) => Promise<void> | void`; `ctx` is a
 * JobContext, or a TransactionalJobContext for a `transactional` handler.
 */
export type JobHandlerMethod = (
  payload: any,
  ctx: TransactionalJobContext,
) => unknown;

/**
 * Marks a provider method as the handler of a job. The class stays an ordinary provider
 * (constructor DI works as usual); the method receives the payload and a `JobContext`.
 *
 * ```ts
 * @Job({ queue: 'emails', maxRetries: 5 })
 * async sendWelcome(payload: { email: string }, ctx: JobContext) { ... }
 * ```
 * Invalid options, duplicate names and request-scoped providers fail at application start-up.
 */
export function Job(options: JobOptions = {}) {
  return <T extends JobHandlerMethod>(
    target: object,
    propertyKey: string | symbol,
    descriptor: TypedPropertyDescriptor<T>,
  ): void => {
    const className = target.constructor.name;
    const methodName = String(propertyKey);
    const metadata: JobMetadata = {
      options,
      defaultName: `${className}.${methodName}`,
      handlerName: `${className}#${methodName}`,
    };
    Reflect.defineMetadata(JOB_METADATA, metadata, descriptor.value as object);
  };
}

/** Reads the `@Job()` metadata of a method, if it has any. */
export function getJobMetadata(method: unknown): JobMetadata | undefined {
  if (typeof method !== 'function') return undefined;
  return Reflect.getMetadata(JOB_METADATA, method) as JobMetadata | undefined;
}
