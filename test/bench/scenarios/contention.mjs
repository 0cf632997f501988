// Scenario 7, claim contention (issue 25, point 6): the drain of scenario 2 worked by N worker
// processes on one queue at once instead of one. This process loads the backlog with the
// system's bulk API; N processes (child/worker-process.mjs, each the same adapter and variant)
// boot, then start together. The clock runs from the first handler call in any process to the
// moment the table shows nothing pending or running, so boot is left out as in the drain. The
// same scenario with one worker process is the baseline (`extra.processes` 1): the ratio says
// what N processes claiming from the same index lose (or gain) on the same cores. Exactly once
// holds across processes: their ledgers are merged before the usual check.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ledger } from '../child/ledger.mjs';
import { settledState, verifyExactlyOnce } from '../child/verify.mjs';
import { counterDelta, sampleWaits, tableCounters } from '../lib/db-probe.mjs';
import { cpuBetween, cpuMark } from '../lib/proc-stats.mjs';
import { sleep } from '../lib/stats.mjs';
import { loadJobs } from './drain.mjs';

const WORKER = fileURLToPath(
  new URL('../child/worker-process.mjs', import.meta.url),
);
const BOOT_TIMEOUT_MS = 120_000;
const wallNow = () => performance.timeOrigin + performance.now();

/** A forked worker process with a promise per message type it is expected to send next. */
function startWorkerProcess(config, onMessage) {
  const child = fork(WORKER, [JSON.stringify(config)], {
    execPath: process.execPath, // the Node 22 binary this child runs under
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.on('message', onMessage);
  return { child, exited };
}

export async function run({ adapter, sizes, pgPid, system, extra, config }) {
  const processes = extra.processes;
  const jobs = sizes.drainJobs;
  await adapter.init();
  await loadJobs(adapter, jobs);
  await adapter.analyze();

  const workers = [];
  const handled = new Array(processes).fill(0);
  const firsts = [];
  const done = new Array(processes).fill(null);
  let failure = null;
  let ready = 0;
  let startMark = null;
  for (let i = 0; i < processes; i += 1) {
    workers.push(
      startWorkerProcess(
        { system, variant: config.variant, url: config.url, capacity: jobs },
        (message) => {
          if (message.type === 'ready') ready += 1;
          else if (message.type === 'first') {
            firsts.push(message.at);
            startMark ??= cpuMark(pgPid);
          } else if (message.type === 'progress') handled[i] = message.handled;
          else if (message.type === 'done') done[i] = message;
          else if (message.type === 'error')
            failure ??= new Error(
              `worker process ${i + 1}: ${message.message}\n${message.stack}`,
            );
        },
      ),
    );
  }
  try {
    const bootDeadline = performance.now() + BOOT_TIMEOUT_MS;
    while (ready < processes && !failure && performance.now() < bootDeadline)
      await sleep(10);
    if (failure) throw failure;
    if (ready < processes)
      throw new Error(`${processes - ready} worker process(es) did not boot`);

    const countersBefore = await tableCounters(config.url);
    const stopSampling = await sampleWaits(config.url);
    for (const { child } of workers) child.send({ type: 'start' });
    const capAt = performance.now() + sizes.drainCapSeconds * 1000;
    let finished = false;
    let flushed = false;
    while (performance.now() < capAt && !failure) {
      const sum = handled.reduce((a, b) => a + b, 0);
      // Progress comes in thousands: near the end, ask for exact counts (once), then let the
      // table say when every completion is written.
      if (!flushed && sum >= jobs - processes * 1_000) {
        for (const { child } of workers) child.send({ type: 'flush' });
        flushed = true;
      }
      if (sum >= jobs && (await adapter.remaining()) === 0) {
        finished = true;
        break;
      }
      if (flushed && sum < jobs) {
        for (const { child } of workers) child.send({ type: 'flush' });
      }
      await sleep(sum >= jobs ? 10 : 20);
    }
    const endedAt = wallNow();
    const endMark = cpuMark(pgPid);
    const waits = await stopSampling();
    if (failure) throw failure;
    const completed = finished ? jobs : jobs - (await adapter.remaining());

    for (const { child } of workers) child.send({ type: 'stop' });
    await Promise.all(workers.map((w) => w.exited));
    if (failure) throw failure;
    if (done.some((d) => d === null))
      throw new Error('a worker process exited without its ledger');
    const counters = counterDelta(
      countersBefore,
      await tableCounters(config.url),
    );

    // The merged ledger: a seq run in two processes is a duplicate like one run twice in one.
    ledger.reset(jobs);
    const perProcess = [];
    for (const d of done) {
      const runs = new Uint8Array(Buffer.from(d.runs, 'base64'));
      let mine = 0;
      for (let seq = 0; seq < jobs; seq += 1) {
        const n = runs[seq];
        if (n === 0) continue;
        mine += 1;
        if (ledger.runs[seq] === 0) ledger.handled += 1;
        ledger.duplicates +=
          Math.max(0, n - 1) + (ledger.runs[seq] > 0 ? 1 : 0);
        ledger.runs[seq] = Math.min(255, ledger.runs[seq] + n);
      }
      ledger.outOfRange += d.outOfRange;
      perProcess.push({
        handled: mine,
        statements: d.statements,
        claim: d.statements.claim ?? null,
        cpuSeconds: d.cpuSeconds,
      });
    }
    const verify = verifyExactlyOnce(await settledState(adapter), {
      expected: jobs,
      mustFinish: finished,
    });
    const firstStart = Math.min(...firsts);
    const seconds = (endedAt - firstStart) / 1000;
    const claims = perProcess.map((p) => p.claim).filter(Boolean);
    const claimCount = claims.reduce((a, c) => a + c.count, 0);
    return {
      processes,
      jobs,
      completed,
      finished,
      handled: ledger.handled,
      seconds,
      rate: completed / seconds,
      // PostgreSQL's CPU from the first handler call any process reported to the end.
      cpu: startMark ? cpuBetween(startMark, endMark) : null,
      claims: claimCount,
      claimRows: claims.reduce((a, c) => a + c.rows, 0),
      // The slowest process's median claim: contention shows in the worst one.
      claimP50Ms: Math.max(...claims.map((c) => c.p50Ms ?? 0)),
      claimP99Ms: Math.max(...claims.map((c) => c.p99Ms ?? 0)),
      // The same on the server (nest-jobs' claims report it; null for the other systems).
      claimServerP50Ms: claims.some((c) => c.serverP50Ms != null)
        ? Math.max(...claims.map((c) => c.serverP50Ms ?? 0))
        : null,
      // Per process: p10 / p50 / p90 of server ms per claimed row.
      claimServerPerRowMs: claims.map((c) => c.serverPerRowMs ?? null),
      perProcessHandled: perProcess.map((p) => p.handled),
      // Node CPU of every worker process over the drain: on a machine others load, N
      // processes get N shares of the cores, so CPU per job (with PostgreSQL's) is what
      // shows contention, where the rate may not.
      nodeCpuSeconds: perProcess.reduce((a, p) => a + p.cpuSeconds, 0),
      // Statements of every process by kind: count, rows, and their time in node.
      statements: mergeStatements(perProcess.map((p) => p.statements)),
      // What the database saw: entries read per index, and backends by wait event.
      counters,
      waits,
      verify,
    };
  } finally {
    for (const { child } of workers)
      if (child.exitCode === null && child.signalCode === null)
        child.kill('SIGKILL');
  }
}

/** Counts, rows and node-side milliseconds of each kind of statement, summed over processes. */
function mergeStatements(list) {
  const out = {};
  for (const statements of list)
    for (const [kind, stat] of Object.entries(statements ?? {})) {
      const sum = (out[kind] ??= { count: 0, rows: 0, ms: 0 });
      sum.count += stat.count;
      sum.rows += stat.rows;
      sum.ms += stat.ms;
    }
  return out;
}
