// A minimal SKIP LOCKED queue written straight on `pg`: the practical limit of nest-jobs'
// design on this machine, not a product (no retries, no lease renewal, no recovery).
// What it does is what postgres-facts.md measured to be fast:
// - enqueue: one prepared single-row INSERT; workers are woken by a pg_notify sent after the
//   insert committed, at most one in flight per process (a NOTIFY inside the insert's
//   transaction would serialise commits);
// - claim: one prepared UPDATE ... WHERE id = ANY(ARRAY(SELECT ... ORDER BY run_at LIMIT n FOR
//   UPDATE SKIP LOCKED)) RETURNING into a local buffer, refilled while slots still have work;
// - completion: everything finished since the last write goes out as one
//   UPDATE ... WHERE id = ANY($1) (rows are kept as 'completed', like nest-jobs' history;
//   deleting them instead is ~30% faster per postgres-facts.md).

import { randomUUID } from 'node:crypto';

const CHANNEL = 'raw_jobs';

/**
 * `bigint`: the minimal table (identity key, the pending index only): the limit of any SKIP
 * LOCKED queue. `contract`: the same queue on what schema.md fixes for nest-jobs' table, a
 * uuid primary key (time-ordered v7 ids, as nest-jobs makes them) and the partial index on
 * running leases that crash recovery needs; the rest stays minimal. The two together tell the
 * cost of the table contract apart from the cost of the library.
 */
const TABLES = {
  bigint: {
    id: 'bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
    idArray: 'bigint[]',
    extraIndexes: [],
    producerMakesIds: false,
  },
  contract: {
    id: 'uuid PRIMARY KEY',
    idArray: 'uuid[]',
    extraIndexes: [
      `CREATE INDEX IF NOT EXISTS raw_jobs_running_lease_idx ON raw_jobs (locked_until) WHERE status = 'running'`,
    ],
    // Like nest-jobs, the producer makes the (time-ordered v7) ids.
    producerMakesIds: true,
  },
};

export function rawQueueSql(table = 'bigint') {
  const spec = TABLES[table];
  if (!spec) throw new Error(`raw-sql queue has no table kind ${table}`);
  return {
    schema: [
      `CREATE TABLE IF NOT EXISTS raw_jobs (
         id          ${spec.id},
         queue       text        NOT NULL DEFAULT 'default',
         payload     jsonb       NOT NULL,
         status      text        NOT NULL DEFAULT 'pending',
         attempts    int         NOT NULL DEFAULT 0,
         run_at      timestamptz NOT NULL DEFAULT now(),
         locked_until timestamptz,
         finished_at timestamptz
       )`,
      `CREATE INDEX IF NOT EXISTS raw_jobs_pending_idx ON raw_jobs (queue, run_at) WHERE status = 'pending'`,
      ...spec.extraIndexes,
    ],
    producerMakesIds: spec.producerMakesIds,
    statements: {
      insertOne: spec.producerMakesIds
        ? {
            name: 'raw_insert_one',
            text: `INSERT INTO raw_jobs (id, queue, payload) VALUES ($3::uuid, $1, $2::jsonb)`,
          }
        : {
            name: 'raw_insert_one',
            text: `INSERT INTO raw_jobs (queue, payload) VALUES ($1, $2::jsonb)`,
          },
      insertMany: spec.producerMakesIds
        ? {
            name: 'raw_insert_many',
            text: `INSERT INTO raw_jobs (id, queue, payload) SELECT i, $1, p FROM unnest($3::uuid[], $2::jsonb[]) AS input(i, p)`,
          }
        : {
            name: 'raw_insert_many',
            text: `INSERT INTO raw_jobs (queue, payload) SELECT $1, p FROM unnest($2::jsonb[]) AS p`,
          },
      notify: {
        name: 'raw_notify',
        text: `SELECT pg_notify('${CHANNEL}', $1)`,
      },
      // `id = ANY(ARRAY(subquery))` rather than `UPDATE ... FROM (subquery)`: with FROM, the planner
      // may hash-join the candidates against a sequential scan of the whole table (it did at 40k
      // rows, in both the custom and the generic plan), which makes every claim O(table); this form
      // always updates through the primary key.
      claim: {
        name: 'raw_claim',
        text: `UPDATE raw_jobs
               SET status = 'running', attempts = attempts + 1, locked_until = now() + interval '60 seconds'
               WHERE id = ANY(ARRAY(
                 SELECT id FROM raw_jobs
                 WHERE status = 'pending' AND queue = $1 AND run_at <= now()
                 ORDER BY run_at LIMIT $2 FOR UPDATE SKIP LOCKED))
               RETURNING id, payload`,
      },
      complete: {
        name: 'raw_complete',
        text: `UPDATE raw_jobs SET status = 'completed', finished_at = now(), locked_until = NULL WHERE id = ANY($1::${spec.idArray})`,
      },
    },
  };
}

/** Producer side: prepared inserts plus the coalesced wake-up. */
export class RawProducer {
  constructor(pool, statements, { makesIds = false, queue = 'default' } = {}) {
    this.pool = pool;
    this.statements = statements;
    this.makesIds = makesIds;
    this.queue = queue;
    this.notifying = null;
    this.notifyAgain = false;
  }

  async enqueue(payload) {
    const values = [this.queue, JSON.stringify(payload)];
    if (this.makesIds) values.push(timeOrderedId());
    await this.pool.query({ ...this.statements.insertOne, values });
    this.wake();
  }

  async enqueueMany(payloads) {
    const values = [this.queue, payloads.map((p) => JSON.stringify(p))];
    if (this.makesIds) values.push(payloads.map(() => timeOrderedId()));
    await this.pool.query({ ...this.statements.insertMany, values });
    this.wake();
  }

  /** At most one pg_notify in flight; wake-ups asked for meanwhile share the next one. */
  wake() {
    if (this.notifying) {
      this.notifyAgain = true;
      return;
    }
    this.notifying = (async () => {
      do {
        this.notifyAgain = false;
        await this.pool
          .query({ ...this.statements.notify, values: [this.queue] })
          .catch(() => undefined);
      } while (this.notifyAgain);
      this.notifying = null;
    })();
  }

  async flush() {
    while (this.notifying) await this.notifying;
  }
}

/** A UUIDv7 the plain way: the Unix milliseconds over the first 48 bits of a v4 id. */
function timeOrderedId() {
  const time = Date.now().toString(16).padStart(12, '0');
  return `${time.slice(0, 8)}-${time.slice(8, 12)}-7${randomUUID().slice(15)}`;
}

/** Worker side: LISTEN connection, claim loop into a local buffer, batched completions. */
export class RawWorker {
  constructor(
    pool,
    listenClient,
    handler,
    statements,
    {
      concurrency = 200,
      claimSize = 200,
      pollMs = 1000,
      queue = 'default',
    } = {},
  ) {
    Object.assign(this, {
      pool,
      statements,
      listenClient,
      handler,
      concurrency,
      claimSize,
      pollMs,
      queue,
    });
    this.buffer = [];
    this.active = 0;
    this.done = [];
    this.claiming = false;
    this.claimAgain = false;
    this.flushing = null;
    this.stopped = false;
    this.timer = null;
  }

  async start() {
    this.listenClient.on('notification', () => this.claim());
    await this.listenClient.query(`LISTEN ${CHANNEL}`);
    const poll = () => {
      this.timer = setTimeout(() => {
        this.claim();
        poll();
      }, this.pollMs);
    };
    poll();
    this.claim();
  }

  async stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    while (
      this.claiming ||
      this.active > 0 ||
      this.buffer.length > 0 ||
      this.flushing ||
      this.done.length > 0
    ) {
      this.pump();
      this.flush();
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await this.listenClient.query(`UNLISTEN ${CHANNEL}`).catch(() => undefined);
  }

  /** Refills the buffer while it is below half a claim; a full claim asks for another at once. */
  async claim() {
    if (this.stopped) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.claiming = true;
    try {
      do {
        this.claimAgain = false;
        const room = this.claimSize - this.buffer.length;
        if (room < this.claimSize / 2 || this.stopped) break;
        const { rows } = await this.pool.query({
          ...this.statements.claim,
          values: [this.queue, room],
        });
        for (const row of rows) this.buffer.push(row);
        this.pump();
        if (rows.length === room) this.claimAgain = true;
      } while (this.claimAgain);
    } finally {
      this.claiming = false;
    }
  }

  pump() {
    while (this.active < this.concurrency && this.buffer.length > 0) {
      const job = this.buffer.shift();
      this.active += 1;
      Promise.resolve(this.handler(job.payload)).then(
        () => this.finish(job.id),
        (error) => {
          console.error(`[raw-sql] handler failed: ${error}`);
          this.finish(job.id);
        },
      );
    }
  }

  finish(id) {
    this.active -= 1;
    this.done.push(id);
    this.flush();
    this.pump();
    if (this.buffer.length < this.claimSize / 2) this.claim();
  }

  /** One completion statement for everything finished while the previous one was in flight. */
  flush() {
    if (this.flushing || this.done.length === 0) return;
    const ids = this.done;
    this.done = [];
    this.flushing = this.pool
      .query({ ...this.statements.complete, values: [ids] })
      .catch((error) => {
        console.error(`[raw-sql] completion failed: ${error.message}`);
        this.done.push(...ids);
      })
      .finally(() => {
        this.flushing = null;
        if (this.done.length) this.flush();
      });
  }
}
