// Side-by-side benchmark of nest-jobs, pg-boss, graphile-worker and a minimal raw-SQL queue
// (issue 6). Runs each scenario for each system configuration in its own child process under
// Node 22, one at a time, each against a fresh database; prints one markdown table per
// scenario and writes docs/performance.md. See `node run-bench.mjs --help`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runChild } from './lib/child-runner.mjs';
import { loadAverage, machineInfo } from './lib/environment.mjs';
import { parseOptions } from './lib/options.mjs';
import {
  checkpoint,
  createDatabase,
  dropDatabase,
  dropLeftovers,
  foreignActivity,
  postmasterPid,
  serverSettings,
} from './lib/pg-admin.mjs';
import {
  planRuns,
  primaryMetric,
  roundsOf,
  runTimeoutMs,
  separatelyRankedParts,
} from './lib/plan.mjs';
import { startOwnPostgres } from './lib/own-postgres.mjs';
import { renderReport, writeReport } from './lib/report-doc.mjs';
import {
  buildSections,
  label,
  renderSection,
  targetsTable,
} from './lib/tables.mjs';

// Each run drops the databases left under its prefix: runs sharing one server at once (e.g.
// from several worktrees) each set their own BENCH_DB_PREFIX, or each drops the others'.
const DB_PREFIX = process.env.BENCH_DB_PREFIX ?? 'njbench_';
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

function progressLine(run) {
  if (run.error) return `error: ${run.error}`;
  const r = run.result;
  const check = r.verify.ok
    ? 'exactly-once ✓'
    : `EXACTLY-ONCE VIOLATION: ${r.verify.problems.join('; ')}`;
  switch (run.scenario) {
    case 'enqueue':
      return `single ${Math.round(r.single.rate)} jobs/s, bulk ${Math.round(r.bulk.rate)} jobs/s${r.uniquePairs ? `; interleaved bulk plain ${Math.round(r.uniquePairs.plainRate)} / unique ${Math.round(r.uniquePairs.uniqueRate)} jobs/s (${r.uniquePairs.ratio.toFixed(2)}x; Node ms/1k ${r.uniquePairs.nodeMsPer1k.plain.toFixed(2)} / ${r.uniquePairs.nodeMsPer1k.unique.toFixed(2)})` : ''}; ${check}`;
    case 'drain':
      return `${Math.round(r.rate)} jobs/s${r.finished ? '' : ` (did not finish: ${r.handled}/${r.jobs})`}; ${check}`;
    case 'latency':
      return `p50 ${r.latencyMs.p50?.toFixed(2)} ms, p99 ${r.latencyMs.p99?.toFixed(2)} ms (n=${r.latencyMs.n}); ${check}`;
    case 'sustained':
      return `completed ${Math.round(r.completedRate)}/s, backlog ${r.backlog}, e2e p99 ${r.e2eMs.p99?.toFixed(1)} ms; ${check}`;
    case 'scale':
      return `${r.rows} rows: ${Math.round(r.rate)} jobs/s, claim p50 ${r.claim?.p50Ms?.toFixed(2)} ms; ${check}`;
    case 'contention':
      return `${r.processes} process(es): ${Math.round(r.rate)} jobs/s${r.finished ? '' : ` (did not finish: ${r.completed}/${r.jobs})`}, per process ${r.perProcessHandled.join(' / ')}, claim p50 ${r.claimP50Ms?.toFixed(2)} ms; ${check}`;
    case 'ordered':
      return `${Math.round(r.rate)} jobs/s${r.finished ? '' : ` (did not finish: ${r.handled}/${r.jobs})`}; ${r.smallKeysDoneMs == null ? 'the small keys did not all run' : `small keys done after ${Math.round(r.smallKeysDoneMs)} ms (${r.bigJobsBeforeSmallDone} of the big key's jobs ran first)`}; ${check}`;
    case 'limits':
      return r.mode === 'rate'
        ? `${Math.round(r.rate)} jobs/s against ${r.limit} per ${r.periodMs} ms; most starts in a window ${r.maxInWindow} (handler clock)${r.maxInWindowSystem == null ? '' : `, ${r.maxInWindowSystem} (the system's record)`}; per period ${r.perWindow.join(' ')}${r.perWindowSystem ? ` (system: ${r.perWindowSystem.join(' ')})` : ''}; ${check}`
        : `${Math.round(r.rate)} jobs/s${r.finished ? '' : ` (did not finish: ${r.handled}/${r.jobs})`} against a limit of ${r.limit} running (${r.slots} slots, ${r.holdMs} ms per job: at best ${Math.round((r.limit * 1000) / r.holdMs)} jobs/s); most running at once ${r.maxConcurrent}; ${check}`;
    case 'reader':
      return Object.entries(r.operations)
        .map(
          ([name, ms]) =>
            `${name} p50 ${ms.p50.toFixed(2)} ms (max ${ms.max.toFixed(2)})`,
        )
        .join('; ');
    default:
      return check;
  }
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (options.help) {
    console.log(options.help);
    return 0;
  }
  if (!options.ownPostgres) return runAll(options);
  // PostgreSQL as it ships (autovacuum on): every database of the run lives on it.
  const server = await startOwnPostgres();
  const previous = process.env.DATABASE_URL;
  process.env.DATABASE_URL = server.url;
  console.error(`own PostgreSQL server (default settings) at ${server.url}`);
  try {
    return await runAll(options);
  } finally {
    if (previous === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = previous;
    await server.stop();
  }
}

async function runAll(options) {
  await dropLeftovers(DB_PREFIX);
  const env = machineInfo(REPO_ROOT);
  const settings = await serverSettings();
  const pgPid = await postmasterPid();
  const loadBefore = loadAverage();
  if (loadBefore[0] > env.cpus * 0.5) {
    console.error(
      `warning: load average ${loadBefore.join(', ')} on ${env.cpus} cores: the machine is busy, figures are provisional`,
    );
  }
  if (!pgPid)
    console.error(
      'warning: the PostgreSQL server is not on this machine (or unreadable): its CPU is reported as n/a',
    );

  const runs = planRuns(options);
  console.error(
    `nest-jobs benchmark: ${runs.length} runs (${options.quick ? 'quick' : 'full'} sizes), load ${loadBefore.join(', ')}`,
  );
  // Repetitions go round all runs in turn (not one configuration N times in a row), so a
  // change in the machine's load during the benchmark spreads over every system alike.
  const attempts = runs.map(() => []);
  const errors = runs.map(() => null);
  const foreign = runs.map(() => 0);
  const rounds = Math.max(
    ...runs.map((run) => roundsOf(run.scenario, options.repeat)),
  );
  for (let repetition = 0; repetition < rounds; repetition += 1) {
    for (const [index, run] of runs.entries()) {
      if (errors[index]) continue;
      if (repetition >= roundsOf(run.scenario, options.repeat)) continue;
      const suffix = run.extra.size
        ? `_${run.extra.size}`
        : run.extra.rate
          ? `_${run.extra.rate}`
          : run.extra.processes
            ? `_p${run.extra.processes}`
            : '';
      const name =
        `${DB_PREFIX}${run.scenario}_${run.system}_${run.variant}${suffix}`.replace(
          /-/g,
          '_',
        );
      const title = `[${index + 1}/${runs.length}${rounds > 1 ? ` #${repetition + 1}` : ''}] ${run.scenario}${run.extra.size ? ` (${run.extra.size}, ${run.extra.rows} rows)` : ''}${run.extra.rate ? ` at ${run.extra.rate}/s` : ''}${run.extra.processes ? ` (${run.extra.processes} worker process${run.extra.processes > 1 ? 'es' : ''})` : ''}: ${label(run)}`;
      console.error(`${title} ...`);
      foreign[index] = Math.max(
        foreign[index],
        await foreignActivity(DB_PREFIX),
      );
      const url = await createDatabase(name);
      await checkpoint(); // no run pays for the dirty buffers or WAL of the one before
      try {
        const result = await runChild(
          {
            system: run.system,
            variant: run.variant,
            scenario: run.scenario,
            url,
            sizes: options.sizes,
            postmasterPid: pgPid,
            extra: run.extra,
          },
          { timeoutMs: runTimeoutMs(run, options.sizes) },
        );
        attempts[index].push(result);
        console.error(`${title}: ${progressLine({ ...run, result })}`);
      } catch (error) {
        errors[index] = error.message;
        if (error.childStack) console.error(error.childStack);
        console.error(`${title}: error: ${error.message}`);
      } finally {
        await dropDatabase(name);
      }
    }
  }
  const results = runs.map((run, index) => {
    const entry = {
      ...run,
      result: null,
      error: errors[index],
      foreignActive: foreign[index],
      repeats: [],
    };
    if (entry.error || attempts[index].length === 0) return entry;
    // The median repetition stands for the configuration; a violation in any of them is kept.
    const ranked = [...attempts[index]].sort(
      (a, b) => primaryMetric(run.scenario, a) - primaryMetric(run.scenario, b),
    );
    entry.result = ranked[Math.floor((ranked.length - 1) / 2)];
    entry.repeats = attempts[index].map((a) => primaryMetric(run.scenario, a));
    // Sustained load flips between rounds (the failure is bimodal): every round is reported.
    if (run.scenario === 'sustained') entry.rounds = attempts[index];
    for (const { part, metric, figure, take } of separatelyRankedParts(
      run.scenario,
    )) {
      const byPart = [...attempts[index]].sort((a, b) => metric(a) - metric(b));
      const median = byPart[Math.floor((byPart.length - 1) / 2)];
      entry.result = take(entry.result, median);
      entry.partRepeats = {
        ...entry.partRepeats,
        [part]: attempts[index].map(figure),
      };
    }
    const violated = attempts[index].find((a) => !a.verify.ok);
    if (violated) entry.result = { ...entry.result, verify: violated.verify };
    return entry;
  });
  const loadAfter = loadAverage();

  const { sections, targets } = buildSections(results);
  const failed = results.filter((r) => r.error || !r.result.verify.ok);
  const violations = failed.map(
    (r) =>
      `${r.scenario} ${label(r)}: ${r.error ?? r.result.verify.problems.join(', ')}`,
  );
  console.log(
    `\n## Targets\n\n${targets.length ? targetsTable(targets) : '(none evaluated)'}\n`,
  );
  for (const section of sections) console.log(`${renderSection(section)}\n`);
  if (violations.length) {
    console.error(
      `\n!!! EXACTLY-ONCE VIOLATIONS OR ERRORS:\n${violations.map((v) => `  - ${v}`).join('\n')}\n`,
    );
  }
  if (options.write) {
    const out = options.out ?? `${REPO_ROOT}docs/performance.md`;
    writeReport(
      out,
      renderReport({
        options,
        env,
        settings,
        loadBefore,
        loadAfter,
        results,
        sections,
        targets,
        violations,
      }),
    );
    // The raw figures too, for comparing a later run (e.g. after optimising the hot path).
    const json = out.replace(/\.md$/, '') + '.json';
    writeFileSync(
      json,
      `${JSON.stringify({ options, env, settings, loadBefore, loadAfter, results }, null, 1)}\n`,
    );
    console.error(`wrote ${out} and ${json}`);
  }
  // A peer's violation is a finding about that peer, reported above; the exit code fails only
  // for errors and for violations by nest-jobs or the raw-SQL reference.
  return failed.some(
    (r) => r.error || !['pg-boss', 'graphile-worker'].includes(r.system),
  )
    ? 1
    : 0;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error.stack ?? error.message);
    process.exit(2);
  },
);
