// EXPLAIN ANALYZE of a hot-path statement under both plans PostgreSQL may use for it: the
// custom plan (planned for the actual parameters, what the first five executions of a named
// statement get) and the generic plan (what a named statement switches to afterwards when its
// estimated cost looks no worse). Each runs inside a savepoint that is rolled back, so nothing
// changes; the caller wraps everything in one transaction.

/**
 * @param query    (text) => Promise<rows> on one connection, inside a transaction
 * @param text     the statement with $n parameters
 * @param literals SQL literals for $1..$n, e.g. ["'default'", '200']
 */
export async function explainBoth(query, text, literals) {
  const plans = {};
  for (const mode of ['force_custom_plan', 'force_generic_plan']) {
    await query('SAVEPOINT bench_explain');
    await query(`SET LOCAL plan_cache_mode = ${mode}`);
    await query(`PREPARE bench_statement AS ${text}`);
    try {
      const rows = await query(
        `EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE bench_statement(${literals.join(', ')})`,
      );
      plans[mode === 'force_custom_plan' ? 'custom' : 'generic'] = rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
    } finally {
      await query('ROLLBACK TO SAVEPOINT bench_explain');
      await query('DEALLOCATE bench_statement');
    }
  }
  return plans;
}

export const uuidArray = (ids) => `'{${ids.join(',')}}'::uuid[]`;
export const intArray = (values) => `'{${values.join(',')}}'::int[]`;
export const bigintArray = (values) => `'{${values.join(',')}}'::bigint[]`;
