// Fills a system's own job table fast for the scale scenario: one row is created through the
// system's own API (so every column holds what that system really writes), then copied with
// INSERT ... SELECT over generate_series, overriding only identity, payload, state and times.
// Rows come out ordered by seq (their run_at/created_at grow with it), like a real backlog.

/**
 * @param db            { query(text, values) } on the system's database
 * @param table         schema-qualified table, e.g. 'public.nest_jobs'
 * @param templateWhere SQL condition selecting the template row as `t`
 * @param overrides     { column: SQL expression over `g` (the series value) and `t` }
 * @param from, to      inclusive series bounds
 */
export async function copyTemplateRows(
  db,
  { table, templateWhere, overrides, from, to },
) {
  if (to < from) return;
  const [schema, name] = table.split('.');
  const columns = await db.query(
    `SELECT column_name FROM information_schema.columns
     WHERE table_schema = $1 AND table_name = $2
       AND is_generated = 'NEVER' AND identity_generation IS DISTINCT FROM 'ALWAYS'
     ORDER BY ordinal_position`,
    [schema, name],
  );
  const insertable = columns.map((row) => row.column_name);
  const targets = [];
  const values = [];
  for (const column of insertable) {
    targets.push(`"${column}"`);
    values.push(column in overrides ? overrides[column] : `t."${column}"`);
  }
  for (const column of Object.keys(overrides)) {
    if (!insertable.includes(column))
      throw new Error(`prefill: ${table} has no insertable column ${column}`);
  }
  // Chunks keep each transaction's WAL and lock footprint moderate at 1M rows.
  const chunk = 200_000;
  for (let start = from; start <= to; start += chunk) {
    const end = Math.min(to, start + chunk - 1);
    await db.query(
      `INSERT INTO ${table} (${targets.join(', ')})
       SELECT ${values.join(', ')}
       FROM (SELECT * FROM ${table} WHERE ${templateWhere} LIMIT 1) AS t,
            generate_series(${start}::int, ${end}::int) AS g`,
    );
  }
}

/** SQL for a timestamp that grows with g and ends at now(): keeps claim order = seq order. */
export const orderedTime = (total) =>
  `now() - ((${total} - g) * interval '1 microsecond')`;
