// Command-line flags of run-bench.mjs and the sizes they select. Sizes live here, once, so
// the tables and docs/performance.md can print exactly what a run used.

export const SCENARIOS = ['enqueue', 'drain', 'latency', 'sustained', 'scale'];
export const SYSTEMS = ['nest-jobs', 'pg-boss', 'graphile-worker', 'raw-sql'];

const USAGE = `Usage: npm run bench -- [flags]   (or: node run-bench.mjs [flags] in test/bench)
  --quick                 small sizes, for smoke checks (numbers are not comparable to a full run)
  --only a,b              scenarios among: ${SCENARIOS.join(', ')} (cpu figures come from drain)
  --systems a,b           systems among: ${SYSTEMS.join(', ')}
  --jobs N                jobs pre-loaded for the drain scenario
  --large N               rows in the table for the large case of the scale scenario (default 1000000)
  --no-large              skip the large case of the scale scenario
  --rate N                offered rate of the sustained scenario, jobs/s
  --repeat N              run every measurement N times (enqueue, drain and scale at least 5) and report the median (for a shared machine)
  --out PATH              markdown report (default: <repo>/docs/performance.md); --no-write to skip
  --help`;

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
    jobs: null,
    large: null,
    noLarge: false,
    rate: null,
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
      case '--jobs':
        flags.jobs = positiveInt(next(), arg);
        break;
      case '--large':
        flags.large = positiveInt(next(), arg);
        break;
      case '--no-large':
        flags.noLarge = true;
        break;
      case '--rate':
        flags.rate = positiveInt(next(), arg);
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
  if (flags.rate) sizes.sustainedRate = flags.rate;
  if (flags.large) sizes.scaleLarge = flags.large;
  if (sizes.scaleLarge <= sizes.scaleSmall) {
    throw new Error(
      `--large must exceed the small case (${sizes.scaleSmall} rows)`,
    );
  }
  return {
    quick: flags.quick,
    scenarios: flags.only ?? SCENARIOS,
    systems: flags.systems ?? SYSTEMS,
    sizes,
    includeLarge: !flags.noLarge,
    repeat: flags.repeat,
    out: flags.out,
    write: flags.write,
  };
}
