// Expands the chosen scenarios and systems into the list of child runs, in the order they run.
import {
  CATALOG,
  CONTENTION_VARIANTS,
  FASTEST_VARIANT,
} from '../systems/catalog.mjs';

export function planRuns({
  scenarios,
  systems,
  sizes,
  includeLarge,
  variants = null,
}) {
  const runs = planAll(scenarios, systems, sizes, includeLarge);
  if (!variants) return runs;
  // --variants: only the configurations named (a run of point 1 of issue 25 needs three).
  const known = new Set(runs.map((run) => run.variant));
  for (const variant of variants)
    if (!known.has(variant))
      throw new Error(
        `--variants: no run has the variant "${variant}" (known here: ${[...known].join(', ')})`,
      );
  return runs.filter((run) => variants.includes(run.variant));
}

function planAll(scenarios, systems, sizes, includeLarge) {
  const runs = [];
  for (const scenario of scenarios) {
    for (const system of systems) {
      const {
        variants,
        enqueueVariants,
        drainVariants,
        orderedVariants,
        limitVariants,
      } = CATALOG[system];
      // Flow control runs only the variants of a system that has the mode (issue 22).
      if (scenario === 'limits') {
        for (const variant of limitVariants ?? [])
          runs.push({ scenario, system, variant, extra: {} });
        continue;
      }
      // Ordered delivery runs only on systems that have an ordered mode in the benchmark.
      if (scenario === 'ordered') {
        for (const variant of orderedVariants ?? [])
          runs.push({ scenario, system, variant, extra: {} });
        continue;
      }
      // JobsReader is nest-jobs' own: no peer has the same read model to compare with.
      if (scenario === 'reader') {
        if (system === 'nest-jobs')
          runs.push({
            scenario,
            system,
            variant: 'default',
            extra: { rows: sizes.readerRows },
          });
        continue;
      }
      // Claim contention: one worker process, then N, on the same backlog (issue 25, point 6).
      if (scenario === 'contention') {
        for (const variant of CONTENTION_VARIANTS[system] ?? [])
          for (const processes of [1, sizes.contentionProcesses])
            runs.push({ scenario, system, variant, extra: { processes } });
        continue;
      }
      if (scenario === 'scale') {
        const variant = FASTEST_VARIANT[system];
        if (!variant) continue;
        runs.push({
          scenario,
          system,
          variant,
          extra: { rows: sizes.scaleSmall, size: 'small' },
        });
        if (includeLarge)
          runs.push({
            scenario,
            system,
            variant,
            extra: {
              rows: sizes.scaleLarge,
              size: 'large',
              ...(sizes.scaleHistory ? { history: sizes.scaleHistory } : {}),
            },
          });
        continue;
      }
      const scenarioVariants =
        { enqueue: enqueueVariants, drain: drainVariants }[scenario] ??
        variants;
      // A sweep of offered rates (--rate a,b,c): each rate is a run of its own.
      const extras =
        scenario === 'sustained' && sizes.sustainedRates
          ? sizes.sustainedRates.map((rate) => ({ rate }))
          : [{}];
      for (const variant of scenarioVariants) {
        for (const extra of extras)
          runs.push({ scenario, system, variant, extra });
      }
    }
  }
  return runs;
}

/**
 * Rounds of a scenario's runs when the benchmark is repeated. Enqueue, drain and scale get at
 * least five: a scale window is only about ten claims of the tuned batch (0.3 s here), the raw
 * bulk insert has outlier rounds, and the raw queue's drain ran anywhere from 65,000 to 108,000
 * jobs/s between rounds of one run, so three rounds leave their medians to one outlier. A drain
 * round is short (seconds per system, but for the capped ones), so the extra rounds are cheap.
 */
export function roundsOf(scenario, repeat) {
  if (repeat <= 1) return repeat;
  return ['enqueue', 'drain', 'scale'].includes(scenario)
    ? Math.max(repeat, 5)
    : repeat;
}

/** Upper bound on one child's run time: its caps plus generous room for set-up and checks. */
export function runTimeoutMs(run, sizes) {
  const slack = 120_000;
  switch (run.scenario) {
    case 'enqueue':
      return sizes.enqueueSingleSeconds * 1000 + slack;
    case 'drain':
      return sizes.drainCapSeconds * 1000 + slack;
    case 'latency':
      return sizes.latencyCapSeconds * 1000 + 60_000 + slack;
    case 'sustained':
      return (
        (sizes.sustainedSeconds + sizes.sustainedTailSeconds) * 1000 + slack
      );
    case 'scale':
      return (
        sizes.scaleCapSeconds * 1000 +
        Math.ceil(run.extra.rows / 1000) * 200 +
        slack
      );
    case 'ordered':
      return sizes.orderedCapSeconds * 1000 + slack;
    case 'limits':
      return (
        Math.max(sizes.limitCapSeconds, sizes.limitRateSeconds + 2) * 1000 +
        10_000 +
        slack
      );
    case 'contention':
      // The worker processes boot one after another on a loaded machine.
      return sizes.drainCapSeconds * 1000 + 2 * slack;
    default:
      return 10 * 60_000;
  }
}

/**
 * Parts of a scenario's result that get their own median over the rounds instead of coming
 * from the round that ranks in the middle by the primary metric. Bulk enqueue is a measurement
 * of its own (run after the single one in the same child), so it is not ranked by single
 * enqueue. The latency percentiles are ranked one by one: p50 and p99 of one round can sit on
 * opposite sides of their medians (a round with the middle p50 had the highest p99 of three),
 * and a tail picked by the middle p50 says nothing about the tail. `take` writes the part of
 * the round that ranks in the middle by `metric` into the reported result; `figure` is the
 * part's own value in each round (listed per round in the report).
 */
export function separatelyRankedParts(scenario) {
  if (scenario === 'enqueue')
    return [
      {
        part: 'bulk',
        metric: (result) => result.bulk.rate,
        figure: (result) => result.bulk.rate,
        take: (result, median) => ({ ...result, bulk: median.bulk }),
      },
      // BENCH_UNIQUE=pairs: the interleaved unique/plain batches, ranked by their ratio.
      {
        part: 'uniquePairs',
        metric: (result) => result.uniquePairs?.ratio ?? 0,
        figure: (result) => result.uniquePairs?.ratio ?? null,
        take: (result, median) =>
          median.uniquePairs
            ? { ...result, uniquePairs: median.uniquePairs }
            : result,
      },
    ];
  if (scenario === 'latency')
    return ['p95', 'p99', 'max'].map((percentile) => ({
      part: percentile,
      // Negated like the primary metric: lower is better, and the median is the median.
      metric: (result) => -result.latencyMs[percentile],
      figure: (result) => result.latencyMs[percentile],
      take: (result, median) => ({
        ...result,
        latencyMs: {
          ...result.latencyMs,
          [percentile]: median.latencyMs[percentile],
        },
      }),
    }));
  return [];
}

/** The figure a repeated measurement is ranked by, higher is better (latency is negated). */
export function primaryMetric(scenario, result) {
  switch (scenario) {
    case 'enqueue':
      return result.single.rate;
    case 'drain':
      return result.rate;
    case 'latency':
      return -result.latencyMs.p50;
    case 'sustained':
      return result.completedRate;
    case 'scale':
      return result.rate;
    case 'ordered':
    case 'limits':
      return result.rate;
    case 'contention':
      return result.rate;
    default:
      return 0;
  }
}
