// Command-line flags of run-bench.mjs and the sizes they select. Sizes live here, once, so
// the tables and docs/performance.md can print exactly what a run used.

export const SCENARIOS = [
  'enqueue',
  'drain',
  'latency',
  'sustained',
  'scale',
  'reader',
  'ordered',
  'contention',
  'limits',
];
/**
 * Scenarios of a run without --only: the reader's (nest-jobs only, a 1M-row fill) and the
 * ordered and limits ones (issue 22, provisional) are opt-in.
 */
export const DEFAULT_SCENARIOS = SCENARIOS.filter(
  (scenario) => !['reader', 'ordered', 'limits'].includes(scenario),
);
export const SYSTEMS = [
  'nest-jobs',
  'pg-boss',
  'graphile-worker',
  'raw-sql',
  'bullmq',
];

const USAGE = `Usage: npm run bench -- [flags]   (or: node run-bench.mjs [flags] in test/bench)
  --quick                 small sizes, for smoke checks (numbers are not comparable to a full run)
  --only a,b              scenarios among: ${SCENARIOS.join(', ')} (cpu figures come from drain; reader runs only with --only)
  --systems a,b           systems among: ${SYSTEMS.join(', ')}
  --variants a,b          only these configurations of each system (e.g. default,aof-always: nest-jobs and
                          BullMQ on Redis with their defaults, and BullMQ on Redis with AOF always)
  --bulk N                jobs of the enqueue scenario's bulk half (default 200000)
  --jobs N                jobs pre-loaded for the drain scenario
  --large N               rows in the table for the large case of the scale scenario (default 1000000)
  --no-large              skip the large case of the scale scenario
  --small N               pending jobs of the scale scenario's small case, all of them timed (default 10000)
  --history N             the large case holds N finished rows plus the small case's pending jobs, instead of
                          half finished, half pending (issue 25: 10,000,000 finished rows)
  --rate N[,N...]         offered rate of the sustained scenario, jobs/s; several: a sweep (each rate a run of every system)
  --seconds N             length of the sustained scenario's window, s
  --in-flight N           most enqueue calls in flight in the sustained scenario, for every system alike (0: no cap)
  --processes N           worker processes of the contention scenario (default 4), measured against one
  --own-postgres          run on a PostgreSQL server the bench starts with PostgreSQL's default settings (autovacuum on), and stops
  --repeat N              run every measurement N times (enqueue, drain and scale at least 5) and report the median (for a shared machine)
  --out PATH              markdown report (default: <repo>/docs/performance.md); --no-write to skip
  --help`;

export const LIMITS = {
  limitWorkers: 3,
  limitSlots: 10,
  limitConcurrency: 10,
  limitConcurrencyHoldMs: 20,
  limitCapSeconds: 30,
  limitRate: 100,
  limitRatePeriodMs: 1_000,
  limitRateHoldMs: 5,
};

const FULL = {
  enqueueSingleSeconds: 5,
  enqueueCallers: 32,
  enqueueBulkTotal: 200_000, // ~1 s for nest-jobs and raw SQL: shorter runs were too noisy to compare
  enqueueBulkBatch: 1_000,
  // 300,000: a drain must last seconds, not a blink, or the end poll, JIT warm-up, fresh
  // backends' first page touches and a neighbour's burst decide it. The same two systems
  // measured 0.81-0.94x apart across runs at 20,000 jobs, 0.88-0.89x at 100,000; on a machine
  // that drains 100,000 jobs in 1.2-1.8 s, five rounds put nest-jobs at 0.92-1.55x
  // graphile-worker tuned at 100,000 jobs and 1.70-1.97x at 300,000 (3-8 s per drain).
  drainJobs: 300_000,
  drainCapSeconds: 20,
  latencyJobs: 300,
  latencySpacingMs: 10,
  latencyCapSeconds: 15,
  sustainedRate: 2_000,
  sustainedSeconds: 15,
  sustainedTailSeconds: 10,
  sustainedMaxInFlight: 64,
  scaleSmall: 10_000,
  // The 1M: pre-filled in SQL, it takes about 15 s per system on 2 cores; --large N
  // (e.g. 300000) or --no-large shortens a run.
  scaleLarge: 1_000_000,
  scaleWindowJobs: 10_000,
  scaleCapSeconds: 20,
  // The 1M rows for JobsReader's page and counts; the fill takes about 30 s.
  readerRows: 1_000_000,
  readerSamples: 30,
  // Ordered delivery (issue 22): one key of 20,000 jobs loaded ahead of 50 keys of 20.
  orderedBigJobs: 20_000,
  orderedSmallKeys: 50,
  orderedSmallJobs: 20,
  orderedCapSeconds: 60,
  // Claim contention (issue 25, point 6): the drain's jobs worked by this many processes.
  contentionProcesses: 4,
  // Flow control beside the peers (issue 22; --only limits): 3 workers of 10 slots under a
  // queue limit of 10 running (each job holds its slot 20 ms: at best 500 jobs/s), and a queue
  // limit of 100 starts per second flooded for 10 s.
  ...LIMITS,
  limitConcurrencyJobs: 3_000,
  limitRateSeconds: 10,
};

const QUICK = {
  enqueueSingleSeconds: 2,
  enqueueCallers: 32,
  enqueueBulkTotal: 10_000,
  enqueueBulkBatch: 1_000,
  drainJobs: 3_000,
  drainCapSeconds: 8,
  latencyJobs: 50,
  latencySpacingMs: 10,
  latencyCapSeconds: 6,
  sustainedRate: 1_000,
  sustainedSeconds: 4,
  sustainedTailSeconds: 4,
  sustainedMaxInFlight: 64,
  scaleSmall: 3_000,
  scaleLarge: 40_000,
  scaleWindowJobs: 3_000,
  scaleCapSeconds: 8,
  readerRows: 50_000,
  readerSamples: 10,
  orderedBigJobs: 1_000,
  orderedSmallKeys: 10,
  orderedSmallJobs: 10,
  orderedCapSeconds: 20,
  contentionProcesses: 4,
  ...LIMITS,
  limitConcurrencyJobs: 400,
  limitRateSeconds: 3,
};

function list(value, allowed, flag) {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const item of items) {
    if (!allowed.includes(item)) {
      throw new Error(
        `${flag}: unknown "${item}" (expected one of ${allowed.join(', ')})`,
      );
    }
  }
  return items;
}

function positiveInt(value, flag) {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`${flag}: expected a positive integer, got "${value}"`);
  return n;
}

/** Parses argv (without node and script) into { quick, scenarios, systems, sizes, out, write, large }. */
export function parseOptions(argv) {
  const flags = {
    quick: false,
    only: null,
    systems: null,
    variants: null,
    bulk: null,
    jobs: null,
    large: null,
    noLarge: false,
    small: null,
    history: null,
    rate: null,
    seconds: null,
    inFlight: null,
    processes: null,
    ownPostgres: false,
    repeat: 1,
    out: null,
    write: true,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const next = () => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg}: missing value`);
      return value;
    };
    switch (arg) {
      case '--quick':
        flags.quick = true;
        break;
      case '--only':
        flags.only = list(next(), SCENARIOS, arg);
        break;
      case '--systems':
        flags.systems = list(next(), SYSTEMS, arg);
        break;
      case '--variants':
        flags.variants = next()
          .split(',')
          .map((v) => v.trim())
          .filter(Boolean);
        break;
      case '--bulk':
        flags.bulk = positiveInt(next(), arg);
        break;
      case '--jobs':
        flags.jobs = positiveInt(next(), arg);
        break;
      case '--large':
        flags.large = positiveInt(next(), arg);
        break;
      case '--no-large':
        flags.noLarge = true;
        break;
      case '--small':
        flags.small = positiveInt(next(), arg);
        break;
      case '--history':
        flags.history = positiveInt(next(), arg);
        break;
      case '--rate':
        flags.rate = next()
          .split(',')
          .map((rate) => positiveInt(rate.trim(), arg));
        break;
      case '--seconds':
        flags.seconds = positiveInt(next(), arg);
        break;
      case '--in-flight': {
        const value = next();
        flags.inFlight = value === '0' ? 0 : positiveInt(value, arg);
        break;
      }
      case '--processes':
        flags.processes = positiveInt(next(), arg);
        break;
      case '--own-postgres':
        flags.ownPostgres = true;
        break;
      case '--repeat':
        flags.repeat = positiveInt(next(), arg);
        break;
      case '--out':
        flags.out = next();
        break;
      case '--no-write':
        flags.write = false;
        break;
      case '--help':
      case '-h':
        return { help: USAGE };
      default:
        throw new Error(`unknown flag "${arg}"\n${USAGE}`);
    }
  }
  const sizes = { ...(flags.quick ? QUICK : FULL) };
  if (flags.jobs) sizes.drainJobs = flags.jobs;
  if (flags.bulk) sizes.enqueueBulkTotal = flags.bulk;
  if (flags.rate) {
    sizes.sustainedRate = flags.rate[0];
    if (flags.rate.length > 1) sizes.sustainedRates = flags.rate;
  }
  if (flags.seconds) sizes.sustainedSeconds = flags.seconds;
  // 0: no cap (JSON has no Infinity: the scenario reads 0 as none).
  if (flags.inFlight !== null) sizes.sustainedMaxInFlight = flags.inFlight;
  if (flags.processes) sizes.contentionProcesses = flags.processes;
  if (flags.large) sizes.scaleLarge = flags.large;
  if (flags.small) {
    sizes.scaleSmall = flags.small;
    sizes.scaleWindowJobs = flags.small;
  }
  // A long history: the large case is the small case's backlog behind N finished rows.
  if (flags.history) {
    sizes.scaleHistory = flags.history;
    sizes.scaleLarge = sizes.scaleSmall + flags.history;
  }
  if (sizes.scaleLarge <= sizes.scaleSmall) {
    throw new Error(
      `--large must exceed the small case (${sizes.scaleSmall} rows)`,
    );
  }
  return {
    quick: flags.quick,
    scenarios: flags.only ?? DEFAULT_SCENARIOS,
    systems: flags.systems ?? SYSTEMS,
    variants: flags.variants,
    sizes,
    includeLarge: !flags.noLarge,
    repeat: flags.repeat,
    ownPostgres: flags.ownPostgres,
    out: flags.out,
    write: flags.write,
  };
}
