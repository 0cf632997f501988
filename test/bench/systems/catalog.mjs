// Which configurations of each system the orchestrator runs. Kept free of imports so the
// orchestrator (which may run on Node 20) never loads the peers; the options themselves are
// described by each adapter's VARIANTS and reported back by the child.

export const CATALOG = {
  'nest-jobs': {
    display: 'nest-jobs',
    variants: ['default', 'tuned'],
    enqueueVariants: ['default'],
  },
  // The tuned queue has notify: true, which adds a pg_notify to every send: enqueue both.
  'pg-boss': {
    display: 'pg-boss',
    variants: ['default', 'tuned'],
    enqueueVariants: ['default', 'tuned'],
  },
  'graphile-worker': {
    display: 'graphile-worker',
    variants: ['default', 'tuned'],
    enqueueVariants: ['default'],
  },
  // Enqueue and drain also run the raw queue on nest-jobs' table contract (uuid key, lease
  // index): the gap between the two raw rows is what that contract costs, whatever runs on it.
  'raw-sql': {
    display: 'raw SQL',
    variants: ['default'],
    enqueueVariants: ['default', 'contract'],
    drainVariants: ['default', 'contract'],
  },
};

/** Variant used when a scenario runs one configuration per system (scale). */
export const FASTEST_VARIANT = {
  'nest-jobs': 'tuned',
  'pg-boss': 'tuned',
  'graphile-worker': 'tuned',
  'raw-sql': 'default',
};
