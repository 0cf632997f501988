import type { DataSource } from 'typeorm';

/**
 * The pg Pools behind a TypeORM PostgreSQL DataSource: its PostgresDriver keeps the primary's
 * as `master` and the replicas' as `slaves` (both undefined before `initialize()`). The one
 * place that reads these driver internals.
 */
export function dataSourcePools<Pool>(dataSource: DataSource): {
  primary: Pool | undefined;
  replicas: Pool[];
} {
  const driver = dataSource.driver as unknown as {
    master?: Pool;
    slaves?: Pool[];
  };
  return { primary: driver.master, replicas: driver.slaves ?? [] };
}
