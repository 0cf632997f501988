import { AsyncLocalStorage } from 'node:async_hooks';

const traceStorage = new AsyncLocalStorage<string>();

/**
 * Runs `fn` with `traceId` as the current trace id: every job enqueued inside (also across
 * awaits) stores it in `trace_id`. Call it in a middleware or interceptor with the request's
 * id. Inside a job handler the job's own trace id is current, so follow-ups inherit it.
 */
export function runWithTraceId<T>(traceId: string, fn: () => T): T {
  return traceStorage.run(traceId, fn);
}

/** The trace id of the current async context, if `runWithTraceId` set one. */
export function currentTraceId(): string | undefined {
  return traceStorage.getStore();
}
