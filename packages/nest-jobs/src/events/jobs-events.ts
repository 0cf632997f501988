import { Injectable, Logger } from '@nestjs/common';
import { describeError } from '../utils/describe-error.js';
import { isThenable } from '../utils/value-checks.js';
import type {
  JobsEventListener,
  JobsEventMap,
  JobsEventName,
} from './jobs-events.interface.js';

/**
 * The typed event bus of one JobsModule instance (no process-global state).
 *
 * ```ts
 * const off = events.on('job.failed', ({ job, reason }) => metrics.inc(job.queue, reason));
 * ```
 *
 * Emitting costs one lookup when nobody listens: emitters ask `has()` first and build no
 * payload otherwise, so unused events cost nothing on the hot path. A listener that throws,
 * or returns a promise that rejects, is logged and never reaches the emitter: a metrics
 * exporter cannot fail a job or stall a worker.
 */
@Injectable()
export class JobsEvents {
  private readonly logger = new Logger(JobsEvents.name);
  private readonly listeners = new Map<
    JobsEventName,
    JobsEventListener<never>[]
  >();

  /** Calls `listener` for every `event` from now on; returns the function that stops it. */
  on<K extends JobsEventName>(
    event: K,
    listener: JobsEventListener<K>,
  ): () => void {
    if (typeof listener !== 'function') {
      throw new TypeError(
        `nest-jobs: the listener of "${String(event)}" must be a function`,
      );
    }
    // A new array on every change: an emit in progress keeps iterating the one it read.
    const current = this.listeners.get(event) ?? [];
    this.listeners.set(event, [
      ...current,
      listener as JobsEventListener<never>,
    ]);
    return () => {
      const now = this.listeners.get(event) ?? [];
      const rest = now.filter((l) => l !== listener);
      if (rest.length > 0) this.listeners.set(event, rest);
      else this.listeners.delete(event);
    };
  }

  /** Whether anyone listens to `event` (emitters skip building the payload otherwise). */
  has(event: JobsEventName): boolean {
    return this.listeners.has(event);
  }

  /** Calls every listener of `event` with `payload`, isolating each from the others. */
  emit<K extends JobsEventName>(event: K, payload: JobsEventMap[K]): void {
    const listeners = this.listeners.get(event);
    if (!listeners) return;
    for (const listener of listeners) {
      try {
        const result: unknown = (listener as JobsEventListener<K>)(payload);
        // Inside the try: reading `then` of a revoked Proxy throws, and is logged like a throw.
        if (isThenable(result)) {
          result.then(undefined, (error: unknown) =>
            this.listenerFailed(event, error),
          );
        }
      } catch (error) {
        this.listenerFailed(event, error);
      }
    }
  }

  private listenerFailed(event: JobsEventName, error: unknown): void {
    this.logger.error(
      `A listener of "${event}" failed (ignored): ${describeError(error)}`,
    );
  }
}
