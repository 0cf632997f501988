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
        { enqueue: enqueueVariants, drain: drainVariants }[scenario] ?? variants;
      for (const variant of scenarioVariants) {
        runs.push({ scenario, system, variant, extra: {} });
      }
    }
  }
  return runs;
}

/**
 * Rounds of a scenario's runs when the benchmark is repeated. Scale and enqueue get at least
 * five: a scale window is only about ten claims of the tuned batch (0.3 s here), and the
 * raw bulk insert has outlier rounds, so three rounds leave their medians to one outlier.
 */
export function roundsOf(scenario, repeat) {
  if (repeat <= 1) return repeat;
  return scenario === 'scale' || scenario === 'enqueue'
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
 * Parts of a scenario's result that are measurements of their own (run after the main one in
 * the same child) and so get their own median: bulk enqueue is not ranked by single enqueue.
 */
export function separatelyRankedParts(scenario) {
  return scenario === 'enqueue'
    ? [{ part: 'bulk', metric: (result) => result.bulk.rate }]
    : [];
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
