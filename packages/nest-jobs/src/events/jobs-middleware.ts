import 'reflect-metadata';
import { JOBS_MIDDLEWARE_METADATA } from '../jobs.constants.js';
import type { JobContext } from '../handlers/job-context.interface.js';
import type { EnqueuedJobInfo } from './jobs-events.interface.js';

/**
 * Code that runs around every enqueue and around every handler call: tracing spans, metrics,
 * audit logs, tenant context. Implement either method or both on an `@Injectable()` class
 * marked `@JobsMiddleware()`; nest-jobs finds it by discovery (full DI) and chains all such
 * classes, lowest `order` outermost. With none registered, enqueues and handlers are called
 * directly: unused middleware costs nothing.
 *
 * ```ts
 * @JobsMiddleware()
 * @Injectable()
 * export class Timing implements JobsMiddleware {
 *   async work(payload: unknown, ctx: JobContext, next: () => unknown) {
 *     const start = Date.now();
 *     try { return await next(); } finally { ctx.logger.log(`took ${Date.now() - start} ms`); }
 *   }
 * }
 * ```
 */
export interface JobsMiddleware {
  /**
   * Around the write of one `enqueue`/`enqueueMany` call, after every check passed. Call
   * `next()` once to write the rows (it resolves when they are written); throw to refuse
   * the enqueue (the caller receives that error; nothing is written). Not calling `next()`
   * fails the enqueue with `JobsMiddlewareError`: an enqueue never reports ids it did not write.
   */
  enqueue?(
    jobs: readonly EnqueuedJobInfo[],
    next: () => Promise<void>,
    context: { readonly transactional: boolean },
  ): unknown;
  /**
   * Around one handler call. Return what `next()` returns (or a promise of it): a throw or a
   * rejection fails the attempt as a handler's would. Not calling `next()` skips the handler
   * and the attempt counts as done.
   */
  work?(payload: unknown, context: JobContext, next: () => unknown): unknown;
}

/** Options of the `@JobsMiddleware()` decorator. */
export interface JobsMiddlewareOptions {
  /** Lower runs first (outermost). Default 0; equal orders keep discovery order. */
  order?: number;
}

/**
 * Marks a provider class as nest-jobs middleware (the interface of the same name says what
 * it may implement). The
 * class must also be a provider of some module (`@Injectable()` and listed in `providers`).
 */
export function JobsMiddleware(
  options: JobsMiddlewareOptions = {},
): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(JOBS_MIDDLEWARE_METADATA, options, target);
  };
}

/** Reads the `@JobsMiddleware()` options of a class, if it has the decorator. */
export function getJobsMiddlewareMetadata(
  target: unknown,
): JobsMiddlewareOptions | undefined {
  if (typeof target !== 'function') return undefined;
  return Reflect.getMetadata(JOBS_MIDDLEWARE_METADATA, target) as
    JobsMiddlewareOptions | undefined;
}
