// Scenario 6, reader (nest-jobs only, opt-in with --only reader): JobsReader's page, counts and
// queue stats on a table of 1,000,000 rows (half completed history, half pending backlog, as
// the scale scenario fills it; then 1% of the history failed and a tenth of the backlog in a
// second queue, VACUUM ANALYZE as autovacuum is off here). Each operation runs once to warm
// up, then `readerSamples` times; we report p50, p95 and max of its wall time in this process
// (a round trip on the application's pool, result mapping included).
import { summarize } from '../lib/stats.mjs';

async function timed(samples, action) {
  await action();
  const times = [];
  for (let i = 0; i < samples; i += 1) {
    const start = performance.now();
    await action();
    times.push(performance.now() - start);
  }
  const { p50, p95, max } = summarize(times);
  return { p50, p95, max };
}

export async function run({ adapter, sizes, extra }) {
  const rows = extra.rows;
  const pending = Math.floor(rows / 2);
  await adapter.init();
  const prefillStart = performance.now();
  await adapter.prefill({ pending, history: rows - pending });
  await adapter.query(
    `UPDATE nest_jobs SET status = 'failed', last_error = 'boom'
     WHERE status = 'completed' AND (payload->>'seq')::int % 100 = 0`,
  );
  await adapter.query(
    `UPDATE nest_jobs SET queue = 'reports'
     WHERE status = 'pending' AND (payload->>'seq')::int % 10 = 0`,
  );
  await adapter.analyze();
  const prefillSeconds = (performance.now() - prefillStart) / 1000;
  const reader = adapter.reader();
  const firstPage = await reader.list({ limit: 50 });
  const secondCursor = firstPage.nextCursor;
  const middle = await reader.list({ status: 'pending', limit: 1 });
  const samples = sizes.readerSamples;
  const operations = {
    'first page (50)': await timed(samples, () => reader.list({ limit: 50 })),
    'next page (cursor)': await timed(samples, () =>
      reader.list({ limit: 50, cursor: secondCursor }),
    ),
    'failed page (1% of rows)': await timed(samples, () =>
      reader.list({ status: 'failed', limit: 50 }),
    ),
    'queue + pending page': await timed(samples, () =>
      reader.list({ status: 'pending', queue: 'reports', limit: 50 }),
    ),
    'get one job': await timed(samples, () => reader.get(middle.jobs[0].id)),
    counts: await timed(samples, () => reader.counts()),
    'queue stats': await timed(samples, () => reader.queueStats()),
  };
  const counts = await reader.counts();
  const [{ n: exactRows }] = await adapter.query(
    'SELECT count(*)::int AS n FROM nest_jobs',
  );
  return {
    rows: exactRows,
    prefillSeconds,
    operations,
    counts,
    stats: await reader.queueStats(),
    verify: { ok: true, problems: [] },
  };
}
