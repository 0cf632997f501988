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
import type { ThrownValueKind, WorkPayload } from '../fixture/protocol.js';
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
        JobsModule.forRoot({ runMigrations: true, worker: { enabled: false } }),
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
