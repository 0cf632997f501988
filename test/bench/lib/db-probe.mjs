// What the database saw of a run, for the contention scenario (issue 25, point 6): how many
// index entries and heap rows the statements read (pg_stat_user_indexes / _tables, before and
// after: a claim skipping rows other processes hold shows as entries read per claimed row),
// and what the run's backends were doing, sampled from pg_stat_activity every few
// milliseconds (waiting on a lock, on the WAL flush, on the client, or running). Statistics
// reach those views when a backend's transaction ends (at most once a second while busy), so
// the second snapshot is taken after the worker processes have exited.
import pg from 'pg';

const SAMPLE_EVERY_MS = 10;

/** Index and table counters of every user table of the database at `url`. */
export async function tableCounters(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const indexes = await client.query(
      `SELECT indexrelname AS name, idx_scan::float8 AS scans,
              idx_tup_read::float8 AS read, idx_tup_fetch::float8 AS fetched
       FROM pg_stat_user_indexes`,
    );
    const tables = await client.query(
      `SELECT relname AS name, n_tup_upd::float8 AS updated,
              n_tup_hot_upd::float8 AS hot, seq_tup_read::float8 AS "seqRead",
              idx_tup_fetch::float8 AS "idxFetched"
       FROM pg_stat_user_tables`,
    );
    return { indexes: indexes.rows, tables: tables.rows };
  } finally {
    await client.end();
  }
}

/** `after` minus `before`, per index and table, dropping those that did not move. */
export function counterDelta(before, after) {
  const minus = (list, rows) =>
    rows
      .map((row) => {
        const was = list.find((b) => b.name === row.name) ?? {};
        const out = { name: row.name };
        let moved = false;
        for (const [key, value] of Object.entries(row)) {
          if (key === 'name') continue;
          out[key] = value - (was[key] ?? 0);
          if (out[key] !== 0) moved = true;
        }
        return moved ? out : null;
      })
      .filter(Boolean);
  return {
    indexes: minus(before.indexes, after.indexes),
    tables: minus(before.tables, after.tables),
  };
}

/**
 * Samples the wait events of the other backends of the database at `url` until stop() is
 * called; stop() resolves a histogram: samples per "state/wait_event_type:wait_event".
 */
export async function sampleWaits(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const counts = new Map();
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const { rows } = await client.query(
        `SELECT state, wait_event_type AS type, wait_event AS event
         FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()
           AND backend_type = 'client backend'`,
      );
      samples += 1;
      for (const row of rows) {
        if (row.state === 'idle') continue; // between statements: the client's time
        const key = `${row.state}/${row.type ? `${row.type}:${row.event}` : 'cpu'}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, SAMPLE_EVERY_MS));
    }
  })();
  return async () => {
    running = false;
    await loop.catch(() => undefined);
    await client.end().catch(() => undefined);
    return {
      samples,
      // Mean backends in each state per sample, busiest first.
      meanBackends: Object.fromEntries(
        [...counts.entries()]
          .sort((a, b) => b[1] - a[1])
          .map(([key, n]) => [key, Math.round((n / samples) * 100) / 100]),
      ),
    };
  };
}
