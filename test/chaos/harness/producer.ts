import { Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { JobEntity, JobsModule, JobsService } from 'nest-jobs';
import { DataSource } from 'typeorm';
import { CapturingLogger } from '../../support/jobs-app.js';
import {
  CHAOS_RUNTIME,
  ChaosHandlers,
  PRODUCER_RUNTIME,
} from '../fixture/chaos-handlers.js';
import {
  CHAOS_QUEUE_POLICIES,
  type OrderedPayload,
  type ThrownValueKind,
  type WorkPayload,
} from '../fixture/protocol.js';
import type { ExpectedJob } from './audit.js';
import { random } from './size.js';

export const PRODUCER_APP = 'chaos producer';

/**
 * The producer: an API-only instance (worker disabled) of an app with the same handler
 * class, so enqueues are typed and carry each job's options. Created first in a scenario:
 * it runs the library's migrations (the workers only check the table). Remembers every job
 * it enqueued (the ids that committed enqueues returned) for the audit.
 */
export class Producer {
  readonly expected: ExpectedJob[] = [];
  private seq = 0;

  private constructor(
    readonly app: INestApplicationContext,
    readonly jobs: JobsService,
    readonly dataSource: DataSource,
    readonly logger: CapturingLogger,
  ) {}

  static async create(url: string, poolMax = 5): Promise<Producer> {
    @Module({
      imports: [
        TypeOrmModule.forRoot({
          type: 'postgres',
          url,
          entities: [JobEntity],
          applicationName: PRODUCER_APP,
          extra: { max: poolMax },
          logging: false,
        }),
        JobsModule.forRoot({
          runMigrations: true,
          worker: { enabled: false },
          queuePolicies: CHAOS_QUEUE_POLICIES,
        }),
      ],
      providers: [
        ChaosHandlers,
        { provide: CHAOS_RUNTIME, useValue: PRODUCER_RUNTIME },
      ],
    })
    class ProducerModule {}
    const logger = new CapturingLogger();
    const app = await NestFactory.createApplicationContext(ProducerModule, {
      logger,
    });
    return new Producer(app, app.get(JobsService), app.get(DataSource), logger);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** `count` work payloads of `minMs`..`maxMs` milliseconds each. */
  workPayloads(count: number, minMs: number, maxMs: number): WorkPayload[] {
    return Array.from({ length: count }, () => ({
      seq: this.nextSeq(),
      ms: random(minMs, maxMs),
    }));
  }

  /** Enqueues work jobs in one round trip and records them. */
  async enqueueWork(payloads: WorkPayload[]): Promise<string[]> {
    const ids =
      payloads.length === 1
        ? [await this.jobs.enqueue(ChaosHandlers, 'work', payloads[0]!)]
        : await this.jobs.enqueueMany(ChaosHandlers, 'work', payloads);
    for (const id of ids)
      this.expected.push({ id, kind: 'work', end: 'completed' });
    return ids;
  }

  /**
   * Enqueues exactly-once business jobs in one round trip and records them: `chaos.business`
   * (`transactional`) or `chaos.businessOwn` (ctx.complete in its own transaction).
   */
  async enqueueBusiness(
    payloads: WorkPayload[],
    form: 'business' | 'businessOwn',
  ): Promise<string[]> {
    const ids = await this.jobs.enqueueMany(ChaosHandlers, form, payloads);
    for (const id of ids)
      this.expected.push({ id, kind: 'business', end: 'completed' });
    return ids;
  }

  /** Enqueues a long checkpointed job (`chaos.steps`) and records it. */
  async enqueueSteps(steps: number, stepMs: number): Promise<string> {
    const id = await this.jobs.enqueue(ChaosHandlers, 'steps', {
      seq: this.nextSeq(),
      steps,
      stepMs,
    });
    this.expected.push({ id, kind: 'steps', end: 'completed' });
    return id;
  }

  /**
   * Enqueues jobs of the ordered queue, all of `key`, in one round trip (not recorded for
   * the audit: the ordered scenarios check their own ledger).
   */
  enqueueOrdered(key: string, payloads: OrderedPayload[]): Promise<string[]> {
    return this.jobs.enqueueMany(ChaosHandlers, 'ordered', payloads, {
      orderingKey: key,
    });
  }

  /** Enqueues jobs of the queue with a cluster-wide limit (not recorded for the audit). */
  enqueueCapped(payloads: Array<{ seq: number; ms: number }>) {
    return this.jobs.enqueueMany(ChaosHandlers, 'capped', payloads);
  }

  /** Enqueues jobs of the key-limited queue, all of `key` (not recorded for the audit). */
  enqueuePerKey(key: string, payloads: Array<{ seq: number; ms: number }>) {
    return this.jobs.enqueueMany(ChaosHandlers, 'perKey', payloads, {
      concurrencyKey: key,
    });
  }

  /** Enqueues jobs of the rate-limited queue (not recorded for the audit). */
  enqueueRated(payloads: Array<{ seq: number; ms: number }>) {
    return this.jobs.enqueueMany(ChaosHandlers, 'rated', payloads);
  }

  /** Enqueues jobs of the queue limited per key, all of `key` (not recorded for the audit). */
  enqueueKeyRated(key: string, payloads: Array<{ seq: number; ms: number }>) {
    return this.jobs.enqueueMany(ChaosHandlers, 'keyRated', payloads, {
      concurrencyKey: key,
    });
  }

  /** Enqueues jobs of the steadily rate-limited queue (not recorded for the audit). */
  enqueueSteady(payloads: Array<{ seq: number; ms: number }>) {
    return this.jobs.enqueueMany(ChaosHandlers, 'steady', payloads);
  }

  async enqueuePoison(): Promise<string> {
    const id = await this.jobs.enqueue(ChaosHandlers, 'poison', {
      seq: this.nextSeq(),
    });
    this.expected.push({ id, kind: 'poison', end: 'failed' });
    return id;
  }

  async enqueueHang(): Promise<string> {
    const id = await this.jobs.enqueue(ChaosHandlers, 'hang', {
      seq: this.nextSeq(),
    });
    this.expected.push({ id, kind: 'hang', end: 'failed' });
    return id;
  }

  async enqueueThrowValue(kind: ThrownValueKind): Promise<string> {
    const id = await this.jobs.enqueue(ChaosHandlers, 'throwValue', {
      seq: this.nextSeq(),
      kind,
    });
    this.expected.push({ id, kind: `throwValue:${kind}`, end: 'failed' });
    return id;
  }

  close(): Promise<void> {
    return this.app.close();
  }
}
