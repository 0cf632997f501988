import type pg from 'pg';
import type { DataSource } from 'typeorm';

/**
 * pg connection settings of a TypeORM PostgreSQL DataSource, built the way TypeORM builds
 * its own pool (the primary under replication), so the worker's own connections reach the
 * same server. `purpose` is appended to the application name (`myapp (listener)`), so
 * pg_stat_activity tells the connections apart.
 */
export function dedicatedConnectionConfig(
  dataSource: DataSource,
  purpose: 'listener' | 'worker',
): pg.ClientConfig {
  const options = dataSource.options as unknown as Record<string, any>;
  const credentials = (options.replication?.master ?? options) as Record<
    string,
    any
  >;
  const {
    max: _max,
    idleTimeoutMillis: _idle,
    ...extra
  } = (options.extra ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = {
    connectionString: credentials.url,
    host: credentials.host,
    user: credentials.username,
    password: credentials.password,
    database: credentials.database,
    port: credentials.port,
    ssl: credentials.ssl,
    connectionTimeoutMillis: options.connectTimeoutMS,
    application_name: `${options.applicationName ?? credentials.applicationName ?? 'nest-jobs'} (${purpose})`,
    ...extra,
  };
  for (const key of Object.keys(config))
    if (config[key] === undefined) delete config[key];
  return config as pg.ClientConfig;
}
