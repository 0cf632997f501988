import { AsyncLocalStorage } from 'node:async_hooks';

const traceStorage = new AsyncLocalStorage<string>();

/**
 * Runs `fn` with `traceId` as the current trace id: every job enqueued inside (also across
 * awaits) stores it in `trace_id`. Call it in a middleware or interceptor with the request's
 * id. Inside a job handler the job's own trace id is current, so follow-ups inherit it.
 */
export function runWithTraceId<T>(traceId: string, fn: () => T): T {
  // Nothing to set and nothing to clear: skip run(), whose first call turns on async
  // hooks for every promise of the process (the worker calls this for every job).
  if (!traceId && !traceStorage.getStore()) return fn();
  return traceStorage.run(traceId, fn);
}

/** The trace id of the current async context, if `runWithTraceId` set one. */
export function currentTraceId(): string | undefined {
  return traceStorage.getStore();
}
