import { Injectable } from '@nestjs/common';
import {
  chainEnqueue,
  type EnqueueChain,
  type RegisteredMiddleware,
} from './middleware-chain.js';

/**
 * The `@JobsMiddleware()` instances of this module instance, ordered. Filled by the explorer
 * at module init, before any handler is registered and before anything can enqueue.
 */
@Injectable()
export class JobsMiddlewareRegistry {
  private list: RegisteredMiddleware[] = [];
  private enqueueChain: EnqueueChain | null = null;

  register(middleware: RegisteredMiddleware): void {
    // Stable: equal orders keep discovery order.
    this.list = [...this.list, middleware].sort((a, b) => a.order - b.order);
    this.enqueueChain = chainEnqueue(this.list);
  }

  get all(): readonly RegisteredMiddleware[] {
    return this.list;
  }

  /** The enqueue hooks chained, or null when no middleware has one. */
  get enqueue(): EnqueueChain | null {
    return this.enqueueChain;
  }
}
