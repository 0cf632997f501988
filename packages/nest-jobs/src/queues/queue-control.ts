import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { JobsEvents } from '../events/jobs-events.js';
import { formatQueueStateMessage } from '../notifications/queue-state-message.js';
import { JobsRepository } from '../sql/jobs.repository.js';
import {
  QueueRepository,
  type PausedQueueRow,
} from '../sql/queue.repository.js';
import { checkName, checkPlainObject } from '../utils/option-checks.js';

/** Options of a pause or resume. */
export interface QueueControlOptions {
  /** Writes in this manager's transaction: the workers hear of it at its commit. */
  readonly manager?: EntityManager;
}

/** A paused queue and since when. */
export interface PausedQueue {
  readonly queue: string;
  readonly pausedAt: Date;
}

/**
 * Pauses and resumes queues across the cluster. The state is persisted (the queues table),
 * so it survives restarts and holds for instances started later; every worker stops
 * claiming from a paused queue within one poll interval (at once where LISTEN works), and
 * the jobs it runs finish. Enqueueing into a paused queue still works: the jobs wait.
 */
@Injectable()
export class JobsQueueControl {
  private readonly queues: QueueRepository;

  constructor(
    repository: JobsRepository,
    private readonly events: JobsEvents,
  ) {
    this.queues = new QueueRepository(repository);
  }

  /** Pauses `queue` (a name, even of a queue with no job yet); returns false when it was already paused. */
  pause(queue: string, options?: QueueControlOptions): Promise<boolean> {
    return this.setPaused(queue, true, options);
  }

  /** Resumes `queue`; returns false when it was not paused. */
  resume(queue: string, options?: QueueControlOptions): Promise<boolean> {
    return this.setPaused(queue, false, options);
  }

  /** The paused queues, by name. */
  async paused(): Promise<PausedQueue[]> {
    return (await this.queues.paused()).map(toPausedQueue);
  }

  private async setPaused(
    queue: string,
    paused: boolean,
    options: QueueControlOptions | undefined,
  ): Promise<boolean> {
    checkName('queue', queue);
    const manager =
      options === undefined
        ? undefined
        : (checkPlainObject('options', options, ['manager']).manager as
            EntityManager | undefined);
    const changed = await this.queues.setPaused(
      queue,
      paused,
      formatQueueStateMessage({ queue, paused }),
      manager,
    );
    const event = paused ? 'queue.paused' : 'queue.resumed';
    if (changed && this.events.has(event))
      this.events.emit(event, { queue, transactional: manager !== undefined });
    return changed;
  }
}

function toPausedQueue(row: PausedQueueRow): PausedQueue {
  return { queue: row.queue, pausedAt: new Date(row.pausedAtMs) };
}
