// Scenario 5, scale: the same drain measured on a small table and on a large one (half of it
// completed history, half pending backlog; graphile-worker keeps no history, so its large table
// holds only the pending half), to show how the cost of claiming grows with the table. Rows are
// copied in SQL from a row the system wrote itself (child/prefill.mjs), then VACUUM ANALYZE
// (autovacuum is off on the benchmark server). With --history N the large case is instead the
// small case's backlog behind N finished rows, so the ratio is what history alone costs. We
// time a window of jobs from the first handler call, read each claim statement's round trip
// from the query probe, and the peak RSS.
import pg from 'pg';
import { ledger } from '../child/ledger.mjs';
import { startRecording, stopRecording } from '../child/query-probe.mjs';
import { settledState, verifyExactlyOnce } from '../child/verify.mjs';
import { peakRssMb, resetPeakRss } from '../lib/proc-stats.mjs';
import { sleep } from '../lib/stats.mjs';

/** CHECKPOINT on the run's database server (superuser only: skipped silently otherwise). */
async function checkpoint(url) {
  if (!url) return;
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    await client.query('CHECKPOINT');
  } catch {
    // Not a superuser, or no server to ask: the figures then include the fill's writes.
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function run({ adapter, sizes, system, extra, config }) {
  const rows = extra.rows;
  const keepsHistory = system !== 'graphile-worker';
  const small = rows <= sizes.scaleSmall;
  // --history N: the small case's backlog behind N finished rows (issue 25, point 6).
  const pending = small
    ? rows
    : extra.history
      ? rows - extra.history
      : Math.floor(rows / 2);
  const history = small || !keepsHistory ? 0 : rows - pending;
  await adapter.init();
  const prefillStart = performance.now();
  await adapter.prefill({ pending, history });
  await adapter.analyze();
  // The fill leaves shared_buffers full of dirty pages and gigabytes of WAL past max_wal_size
  // (10M rows: about 5 GB): without a checkpoint here the drain pays for writing out the fill
  // (backends evicting dirty buffers, full-page images after the checkpoint the WAL forces),
  // which a table that grew over months never does. The small case gets the same.
  await checkpoint(config?.url);
  const prefillSeconds = (performance.now() - prefillStart) / 1000;
  const window = Math.min(sizes.scaleWindowJobs, pending);
  // Plans only at the large size, where they matter; before the worker touches the table.
  const explain =
    !small && adapter.explainHotPath ? await adapter.explainHotPath(200) : null;

  ledger.reset(pending);
  // The window ends at the handler call that completes it, not at the next 10 ms poll: a
  // fast system drains 10,000 jobs in under 0.2 s, where a poll's granularity is 5%.
  let windowClosedAt = Number.NaN;
  ledger.onRun = (_seq, now) => {
    if (ledger.handled >= window && Number.isNaN(windowClosedAt))
      windowClosedAt = now;
  };
  resetPeakRss();
  startRecording();
  await adapter.startWorker();
  const capAt = performance.now() + sizes.scaleCapSeconds * 1000;
  while (ledger.handled < window && performance.now() < capAt) await sleep(10);
  const reachedAt = Number.isNaN(windowClosedAt)
    ? performance.now()
    : windowClosedAt;
  ledger.onRun = null;
  const handledAtWindow = Number.isNaN(windowClosedAt)
    ? ledger.handled
    : window;
  const statements = stopRecording();
  const peakRss = peakRssMb();
  await adapter.stopWorker();
  const verify = verifyExactlyOnce(await settledState(adapter), {
    expected: pending,
    mustFinish: false,
  });
  const seconds = (reachedAt - ledger.firstStart) / 1000;
  return {
    rows,
    pending,
    history,
    prefillSeconds,
    window,
    handled: handledAtWindow,
    reachedWindow: handledAtWindow >= window,
    seconds,
    rate: handledAtWindow / seconds,
    claim: statements.claim ?? null,
    statements,
    peakRssMb: peakRss,
    explain,
    verify,
  };
}
