// BullMQ 6 through its public API, as @nestjs/bullmq users run it: one Queue that adds, one
// Worker that processes, each job a no-op that records itself in the ledger. Its backends:
// the machine's Redis (127.0.0.1:6379, no persistence), a redis-server this adapter starts
// with AOF (`everysec`, BullMQ's production advice; `always`, the durability of PostgreSQL's
// synchronous_commit on), and BullMQ's own PostgreSQL backend (createPostgresBackend) on the
// run's database. Settings from BullMQ's docs ("Going to production", "Auto-removal of
// jobs"): finished jobs removed by count, noeviction on the servers it starts, the worker's
// own ioredis connection with maxRetriesPerRequest: null (in native ESM, BullMQ takes client
// instances, not connection options).
import { randomBytes } from 'node:crypto';
import { Queue, Worker, createPostgresBackend } from 'bullmq';
import { Redis } from 'ioredis';
import { ledger } from '../child/ledger.mjs';
import { limitProbe } from '../child/limit-probe.mjs';
import { LIMITS } from '../lib/options.mjs';
import {
  SHARED_REDIS_URL,
  redisServerPid,
  startRedisWithAof,
} from '../lib/redis-server.mjs';

const QUEUE = 'noop';

/** "Keep a handful of completed jobs and more failed ones" (Auto-removal of jobs). */
const JOB_OPTIONS = {
  removeOnComplete: { count: 1000 },
  removeOnFail: { count: 5000 },
};

const BACKENDS = {
  redis: 'Redis 7 at 127.0.0.1:6379, no persistence (no RDB, no AOF)',
  'aof-everysec':
    'a redis-server the bench starts, appendonly yes, appendfsync everysec',
  'aof-always':
    'a redis-server the bench starts, appendonly yes, appendfsync always (fsync before every answer: the durability of synchronous_commit on)',
  postgres:
    "BullMQ's PostgreSQL backend (createPostgresBackend) on the run's database",
};

/**
 * BullMQ's worker concurrency is 1 by default; its docs show 10 to 50 for I/O-bound jobs and
 * give no throughput recipe. `tuned` (100) is a choice of this bench, to be swept on a quiet
 * machine like the other peers' tuned sizes.
 */
const PROFILES = {
  default: { concurrency: 1, text: 'Worker defaults (concurrency 1)' },
  c10: { concurrency: 10, text: 'Worker concurrency 10' },
  tuned: {
    concurrency: 100,
    text: 'Worker concurrency 100 (not yet swept)',
  },
};

function variant(backend, profile) {
  return {
    label: `${backend === 'redis' ? 'Redis' : backend === 'postgres' ? 'PostgreSQL' : `Redis AOF ${backend.slice(4)}`}, ${profile === 'default' ? 'defaults' : profile === 'c10' ? 'concurrency 10' : 'tuned'}`,
    backend,
    concurrency: PROFILES[profile].concurrency,
    describe: `${BACKENDS[backend]}; ${PROFILES[profile].text}; jobs added with removeOnComplete { count: 1000 }, removeOnFail { count: 5000 }`,
  };
}

export const VARIANTS = {
  default: variant('redis', 'default'),
  c10: variant('redis', 'c10'),
  tuned: variant('redis', 'tuned'),
  'aof-everysec': variant('aof-everysec', 'tuned'),
  'aof-always': variant('aof-always', 'tuned'),
  'aof-always-c10': variant('aof-always', 'c10'),
  postgres: variant('postgres', 'tuned'),
  'postgres-c10': variant('postgres', 'c10'),
};

// The limits scenario (issue 22): LIMITS.limitWorkers Workers of LIMITS.limitSlots each, on
// the machine's Redis, under BullMQ OSS's global limits: queue.setGlobalConcurrency(n), and
// the Worker option `limiter: { max, duration }` (global: kept in Redis for the queue).
VARIANTS['limit-concurrency'] = {
  ...variant('redis', 'c10'),
  label: `Redis, ${LIMITS.limitWorkers} workers, global concurrency ${LIMITS.limitConcurrency}`,
  concurrency: LIMITS.limitSlots,
  limitMode: 'concurrency',
  describe: `${BACKENDS.redis}; ${LIMITS.limitWorkers} Workers of concurrency ${LIMITS.limitSlots}; queue.setGlobalConcurrency(${LIMITS.limitConcurrency})`,
};
VARIANTS['limit-rate'] = {
  ...variant('redis', 'c10'),
  label: `Redis, ${LIMITS.limitWorkers} workers, limiter ${LIMITS.limitRate} per ${LIMITS.limitRatePeriodMs} ms`,
  concurrency: LIMITS.limitSlots,
  limitMode: 'rate',
  describe: `${BACKENDS.redis}; ${LIMITS.limitWorkers} Workers of concurrency ${LIMITS.limitSlots}, each with limiter: { max: ${LIMITS.limitRate}, duration: ${LIMITS.limitRatePeriodMs} }`,
};

export function createAdapter({ url, variant: name }) {
  const settings = VARIANTS[name];
  // Each run gets a key prefix of its own on the shared Redis, removed at close.
  const prefix = `njbench-${randomBytes(4).toString('hex')}`;
  let ownRedis = null;
  let redisUrl = null;
  let connectionOptions;
  let backendFactory;
  const clients = [];
  /** A connection for a Queue, or for a Worker (whose blocking reads must never give up). */
  const connection = (forWorker) => {
    if (!redisUrl) return connectionOptions;
    const client = new Redis(redisUrl, {
      maxRetriesPerRequest: forWorker ? null : 20,
    });
    client.on('error', (error) =>
      console.error(`[bullmq redis] ${error.message}`),
    );
    clients.push(client);
    return client;
  };
  let queue;
  let worker = null;
  const limitWorkers = [];

  async function prepare() {
    if (connectionOptions) return;
    if (settings.backend === 'postgres') {
      // The run's fresh database: BullMQ creates its schema when asked to.
      connectionOptions = { connectionString: url, migrate: true };
      backendFactory = createPostgresBackend;
      return;
    }
    if (settings.backend !== 'redis')
      ownRedis = await startRedisWithAof(settings.backend.slice(4));
    redisUrl = ownRedis?.url ?? SHARED_REDIS_URL;
    connectionOptions = true;
  }

  const opts = (forWorker, more = {}) => ({
    connection: connection(forWorker),
    ...(settings.backend === 'postgres' ? {} : { prefix }),
    ...more,
  });
  const construct = (Class, ...args) =>
    backendFactory ? new Class(...args, backendFactory) : new Class(...args);

  async function unfinishedJobs() {
    return queue.getJobs(['waiting', 'active', 'delayed', 'prioritized']);
  }

  return {
    /** Starts the server this variant needs before the scenario measures anything. */
    prepare,
    /** The process whose CPU time is this system's server cost: Redis, or the postmaster. */
    async serverPid() {
      await prepare();
      if (settings.backend === 'postgres') return undefined;
      return ownRedis?.pid ?? (await redisServerPid(SHARED_REDIS_URL));
    },
    async init() {
      await prepare();
      queue = construct(
        Queue,
        QUEUE,
        opts(false, { defaultJobOptions: JOB_OPTIONS }),
      );
      await queue.waitUntilReady();
      if (settings.limitMode === 'concurrency')
        await queue.setGlobalConcurrency(LIMITS.limitConcurrency);
    },
    limitMode: settings.limitMode,
    enqueueLimited: (seqs) =>
      queue.addBulk(seqs.map((seq) => ({ name: QUEUE, data: { seq } }))),
    enqueueOne: (seq) => queue.add(QUEUE, { seq }),
    enqueueMany: (seqs) =>
      queue.addBulk(seqs.map((seq) => ({ name: QUEUE, data: { seq } }))),
    async startWorker() {
      if (settings.limitMode) {
        for (let i = 0; i < LIMITS.limitWorkers; i += 1) {
          const limited = construct(
            Worker,
            QUEUE,
            // processedOn: when BullMQ moved the job to active (its record of the start).
            (job) => limitProbe.run(job.data.seq, job.processedOn),
            opts(true, {
              concurrency: settings.concurrency,
              ...(settings.limitMode === 'rate'
                ? {
                    limiter: {
                      max: LIMITS.limitRate,
                      duration: LIMITS.limitRatePeriodMs,
                    },
                  }
                : {}),
            }),
          );
          limited.on('error', (error) =>
            console.error(`[bullmq worker error] ${error.message}`),
          );
          limitWorkers.push(limited);
        }
        await Promise.all(limitWorkers.map((w) => w.waitUntilReady()));
        return;
      }
      worker = construct(
        Worker,
        QUEUE,
        async (job) => {
          ledger.run(job.data.seq);
        },
        opts(true, { concurrency: settings.concurrency }),
      );
      worker.on('error', (error) =>
        console.error(`[bullmq worker error] ${error.message}`),
      );
      await worker.waitUntilReady();
    },
    async stopWorker() {
      await worker?.close(); // waits for the jobs in progress
      worker = null;
      await Promise.all(limitWorkers.map((w) => w.close()));
      limitWorkers.length = 0;
    },
    async remaining() {
      const counts = await queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'prioritized',
      );
      return Object.values(counts).reduce((sum, n) => sum + n, 0);
    },
    async countJobs() {
      const counts = await queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'prioritized',
        'completed',
        'failed',
      );
      return Object.values(counts).reduce((sum, n) => sum + n, 0);
    },
    /**
     * Completed jobs are removed (all but the last 1000), so the check is the one for systems
     * that delete what they finish: no job that ran is still waiting or active, and every job
     * that did not run is still there.
     */
    async finalState(handledSeqs) {
      const handled = new Set(handledSeqs);
      const left = (await unfinishedJobs()).filter(
        (job) => job && job.data.seq >= 0,
      );
      const { active = 0, failed = 0 } = await queue.getJobCounts(
        'active',
        'failed',
      );
      return {
        deletesDone: true,
        present: left.length,
        handledLeft: left.filter((job) => handled.has(job.data.seq)).length,
        pending: left.length - active,
        running: active,
        failed,
      };
    },
    async prefill() {
      throw new Error('the scale scenario does not run BullMQ');
    },
    async analyze() {
      // Nothing to analyze on Redis; the PostgreSQL backend's tables are fresh.
    },
    classify(text) {
      if (/move_to_active/.test(text)) return 'claim';
      if (/move_to_(completed|finished)/.test(text)) return 'complete';
      if (/add_jobs?(_bulk)?\(/.test(text)) return 'insert';
      if (/^\s*LISTEN/i.test(text)) return 'listen';
      if (/pg_notify|NOTIFY/i.test(text)) return 'notify';
      return 'other';
    },
    async close() {
      await worker?.close();
      for (const limited of limitWorkers) await limited.close();
      if (queue && settings.backend !== 'postgres')
        await queue.obliterate({ force: true }).catch(() => undefined);
      await queue?.close();
      for (const client of clients) client.disconnect();
      await ownRedis?.stop();
    },
  };
}
