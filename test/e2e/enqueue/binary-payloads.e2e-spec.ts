import { describe, expect, it } from '@jest/globals';
import { Inject, Injectable } from '@nestjs/common';
import { InvalidPayloadError, Job, JobsService } from 'nest-jobs';
import { DataSource } from 'typeorm';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { jobRows, waitForStatus } from '../../support/jobs-table.js';

class Received {
  payloads: unknown[] = [];
  validated: unknown[] = [];
}

const Q = 'binary';

@Injectable()
class BinaryHandlers {
  constructor(@Inject(Received) private readonly received: Received) {}

  @Job({
    name: 'binary.store',
    queue: Q,
    validate: (payload) => {
      if (!Buffer.isBuffer(payload)) throw new Error('expected bytes');
    },
  })
  store(payload: Buffer) {
    this.received.payloads.push(payload);
  }
}

describe('enqueue: binary payloads', () => {
  const suite = useJobsSuite('binary_payloads', { clearJobsAfterEach: true });
  const { db } = suite;

  const start = (received: Received) =>
    suite.app({
      providers: [BinaryHandlers, { provide: Received, useValue: received }],
      jobs: { maxPayloadBytes: 1_024, worker: { pollIntervalMs: 50 } },
    });

  it('a Buffer or Uint8Array payload is stored as bytes and handed to the handler as a Buffer', async () => {
    const received = new Received();
    const app = await start(received);
    const jobs = app.get(JobsService);
    const bytes = Buffer.from([0, 1, 2, 255, 0, 0x5c, 0x78]);
    const caller = new Uint8Array([9, 8, 7]);
    const first = await jobs.enqueue(BinaryHandlers, 'store', bytes);
    const [second] = await jobs.enqueueMany(BinaryHandlers, 'store', [caller]);
    // Copied at enqueue: changing the caller's array afterwards changes nothing.
    caller[0] = 42;
    // Inside the caller's transaction too.
    const dataSource = app.get(DataSource);
    const third = await dataSource.transaction((manager) =>
      jobs.enqueue(BinaryHandlers, 'store', Buffer.alloc(1_024, 1), {
        manager,
      }),
    );
    for (const id of [first, second!, third])
      await waitForStatus(db, id, 'completed');
    const rows = await db.query(
      `SELECT payload, payload_bytes FROM nest_jobs WHERE id = $1`,
      [first],
    );
    expect(rows[0].payload).toBeNull();
    expect(rows[0].payload_bytes).toEqual(bytes);
    expect(received.payloads).toHaveLength(3);
    for (const payload of received.payloads)
      expect(Buffer.isBuffer(payload)).toBe(true);
    expect(received.payloads).toEqual(
      expect.arrayContaining([
        bytes,
        Buffer.from([9, 8, 7]),
        Buffer.alloc(1_024, 1),
      ]),
    );
  });

  it('bytes over maxPayloadBytes, or binary data inside a JSON payload, are refused: nothing written', async () => {
    const received = new Received();
    const app = await start(received);
    const jobs = app.get(JobsService);
    await expect(
      jobs.enqueue('binary.store', Buffer.alloc(1_025)),
    ).rejects.toThrow(InvalidPayloadError);
    await expect(
      jobs.enqueue('binary.store', Buffer.alloc(1_025)),
    ).rejects.toThrow(/1025 bytes of binary data, over the limit of 1024/);
    await expect(
      jobs.enqueue('binary.store', { file: Buffer.from([1]) }),
    ).rejects.toThrow(InvalidPayloadError);
    const hostile = new Proxy(new Uint8Array(2), {
      get() {
        throw new Error('hostile');
      },
    });
    await expect(jobs.enqueue('binary.store', hostile)).rejects.toThrow(
      InvalidPayloadError,
    );
    expect(await jobRows(db)).toEqual([]);
  });
});
