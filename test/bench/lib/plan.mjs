// Expands the chosen scenarios and systems into the list of child runs, in the order they run.
import { CATALOG, FASTEST_VARIANT } from '../systems/catalog.mjs';

export function planRuns({ scenarios, systems, sizes, includeLarge }) {
  const runs = [];
  for (const scenario of scenarios) {
    for (const system of systems) {
      const { variants, enqueueVariants, drainVariants } = CATALOG[system];
      if (scenario === 'scale') {
        const variant = FASTEST_VARIANT[system];
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
            extra: { rows: sizes.scaleLarge, size: 'large' },
          });
        continue;
      }
      const scenarioVariants =
        { enqueue: enqueueVariants, drain: drainVariants }[scenario] ??
        variants;
      for (const variant of scenarioVariants) {
        runs.push({ scenario, system, variant, extra: {} });
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
    default:
      return 0;
  }
}
