import { Logger } from '@nestjs/common';
import type { JobContext } from '../handlers/job-context.interface.js';
import { JobsMiddlewareError } from '../errors/jobs-middleware.error.js';
import { describeError } from '../utils/describe-error.js';
import type { EnqueuedJobInfo } from './jobs-events.interface.js';
import type { JobsMiddleware } from './jobs-middleware.js';

/** A discovered `@JobsMiddleware()` instance. */
export interface RegisteredMiddleware {
  /** Class name, for errors. */
  readonly name: string;
  readonly instance: JobsMiddleware;
  readonly order: number;
}

/** How a handler is called: `(payload, ctx) => result`. */
export type HandlerInvoker = (payload: unknown, ctx: JobContext) => unknown;

/** Runs an enqueue's write through the middleware. */
export type EnqueueChain = (
  jobs: readonly EnqueuedJobInfo[],
  context: { readonly transactional: boolean },
  write: () => Promise<void>,
) => Promise<void>;

const logger = new Logger('JobsMiddleware');

/**
 * Wraps `invoke` in the `work` hooks, outermost first. Built once per handler at start-up;
 * without `work` hooks it returns `invoke` itself, so the handler call costs nothing more.
 */
export function chainWork(
  middleware: readonly RegisteredMiddleware[],
  invoke: HandlerInvoker,
): HandlerInvoker {
  let chained = invoke;
  for (const { name, instance } of [...middleware].reverse()) {
    const work = instance.work;
    if (typeof work !== 'function') continue;
    const inner = chained;
    chained = (payload, ctx) => {
      let called = false;
      return work.call(instance, payload, ctx, () => {
        // A second call would run the handler twice in one attempt.
        if (called) throw new JobsMiddlewareError(name, 'called next() twice');
        called = true;
        return inner(payload, ctx);
      });
    };
  }
  return chained;
}

/**
 * Chains the `enqueue` hooks around a write, or returns null when there are none (the
 * service then writes directly). The write happens at most once, and only through `next()`.
 * Once it succeeded the rows exist: an error a hook throws after that is logged, not
 * returned, so a caller never retries an enqueue that was in fact written.
 */
export function chainEnqueue(
  middleware: readonly RegisteredMiddleware[],
): EnqueueChain | null {
  const steps = middleware.filter(
    (m) => typeof m.instance.enqueue === 'function',
  );
  if (steps.length === 0) return null;
  return async (jobs, context, write) => {
    let written = false;
    const run = async (index: number): Promise<void> => {
      if (index === steps.length) {
        await write();
        written = true;
        return;
      }
      const { name, instance } = steps[index]!;
      let next: Promise<void> | null = null;
      await instance.enqueue!(
        jobs,
        () => {
          if (next) throw new JobsMiddlewareError(name, 'called next() twice');
          next = run(index + 1);
          // Awaited below; until then a hook busy elsewhere must not make it "unhandled".
          next.catch(() => undefined);
          return next;
        },
        context,
      );
      if (!next) {
        throw new JobsMiddlewareError(
          name,
          'returned without calling next(): the jobs were not written',
        );
      }
      // A hook that did not wait for next() still does not report success before the write.
      await next;
    };
    try {
      await run(0);
    } catch (error) {
      if (!written) throw error;
      logger.error(
        `A middleware failed after the jobs were written (the enqueue succeeded): ${describeError(error)}`,
      );
    }
  };
}
