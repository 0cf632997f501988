// Which configurations of each system the orchestrator runs. Kept free of imports so the
// orchestrator (which may run on Node 20) never loads the peers; the options themselves are
// described by each adapter's VARIANTS and reported back by the child.

export const CATALOG = {
  // c10: the small concurrency (10 in flight), for drain, latency and sustained load.
  'nest-jobs': {
    display: 'nest-jobs',
    variants: ['default', 'c10', 'tuned'],
    enqueueVariants: ['default'],
    // The same drains over a backlog of five priority levels (issue 20: claims walk the
    // claim index's priority order; at least 0.9x the drain without priorities), and with
    // transactional handlers (issue 21: the cost of one transaction per job).
    drainVariants: [
      'default',
      'c10',
      'tuned',
      'default-priorities',
      'tuned-priorities',
      'transactional',
      // Issue 22: the claim path of a queue with a cluster-wide limit that never binds.
      'tuned-capped',
    ],
    // An ordered queue (queuePolicies), keys as orderingKey (issue 22; --only ordered).
    orderedVariants: ['ordered', 'ordered-tuned', 'fair-tuned'],
    // Cluster-wide limits over three workers (issue 22; --only limits).
    limitVariants: ['limit-concurrency', 'limit-rate'],
  },
  // The tuned queue has notify: true, which adds a pg_notify to every send: enqueue both.
  'pg-boss': {
    display: 'pg-boss',
    variants: ['default', 'tuned'],
    enqueueVariants: ['default', 'tuned'],
    // Its ordered mode, policy key_strict_fifo with singletonKey (issue 22; --only ordered).
    // The groups (groupConcurrency 1, variants '-grouped') are not run: with one key flooding
    // ahead, a fetch returns one job (see pg-boss.mjs) and the run stalls until its cap.
    orderedVariants: ['default-fifo', 'tuned-fifo'],
    // Its cluster-wide limit: every job in one group, groupConcurrency (issue 22; --only
    // limits). pg-boss 12 has no limit of starts per period (singletonSeconds throttles
    // sends: it refuses jobs, it does not pace them), so it runs no rate variant.
    limitVariants: ['limit-concurrency'],
  },
  'graphile-worker': {
    display: 'graphile-worker',
    variants: ['default', 'tuned'],
    enqueueVariants: ['default'],
    // Named queues (queueName = key): the jobs of one queue run in series, in order. The
    // tuned variant's localQueue is known not to keep named queues serial
    // (github.com/graphile/worker/issues/621), and here it fetched one job per poll interval
    // (see graphile-worker.mjs): the tuned ordered variant runs without it.
    orderedVariants: ['default', 'tuned-queues'],
  },
  // Enqueue and drain also run the raw queue on nest-jobs' table contract (uuid key, lease
  // index): the gap between the two raw rows is what that contract costs, whatever runs on it.
  'raw-sql': {
    display: 'raw SQL',
    variants: ['default', 'c10'],
    enqueueVariants: ['default', 'contract'],
    drainVariants: ['default', 'contract', 'c10'],
  },
  // BullMQ on the machine's Redis (no persistence), on Redis with AOF (a server the adapter
  // starts) and on its own PostgreSQL backend: single enqueue at each durability, drains and
  // sustained load with its worker defaults, concurrency 10 and a tuned concurrency.
  bullmq: {
    display: 'BullMQ',
    variants: ['default', 'c10', 'tuned', 'aof-always', 'postgres'],
    enqueueVariants: ['default', 'aof-everysec', 'aof-always', 'postgres'],
    drainVariants: [
      'c10',
      'tuned',
      'aof-always-c10',
      'aof-always',
      'postgres-c10',
      'postgres',
    ],
    // BullMQ OSS: queue.setGlobalConcurrency and the worker's limiter (issue 22; --only limits).
    limitVariants: ['limit-concurrency', 'limit-rate'],
  },
};

/** Variant used when a scenario runs one configuration per system (scale). */
export const FASTEST_VARIANT = {
  'nest-jobs': 'tuned',
  'pg-boss': 'tuned',
  'graphile-worker': 'tuned',
  'raw-sql': 'default',
  bullmq: null, // its table is not PostgreSQL's: the scale scenario does not run it
};

/**
 * Variants whose drain the contention scenario spreads over several worker processes (issue 25,
 * point 6): nest-jobs' tuned profile, and the hand-written queue as the reference of the design.
 */
export const CONTENTION_VARIANTS = {
  // claims-200: the raw queue's claim size, which the worker does not cut (see its VARIANTS).
  'nest-jobs': ['tuned', 'claims-200'],
  'raw-sql': ['default'],
};
