import type pg from 'pg';
import type { DataSource } from 'typeorm';

/**
 * pg connection settings of a TypeORM PostgreSQL DataSource, built the way TypeORM builds
 * its own pool (the primary under replication), so the worker's own connections reach the
 * same server. `purpose` is appended to the application name (`myapp (listener)`), so
 * pg_stat_activity tells the connections apart. With `directUrl` (`database.directUrl`) the
 * connection goes there instead, past a pooler in front of the DataSource; what the URL
 * does not say (user, password, ssl) is still the DataSource's.
 */
export function dedicatedConnectionConfig(
  dataSource: DataSource,
  purpose: 'listener' | 'worker' | 'pooler check',
  directUrl?: string,
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
  if (directUrl !== undefined) {
    // pg reads a connection string over the discrete fields; those it leaves out fall
    // back to the DataSource's (the database too: it must be the same one), except the
    // address, which is the URL's alone (its port defaults to 5432, not the pooler's).
    config.connectionString = directUrl;
    delete config.host;
    delete config.port;
  }
  for (const key of Object.keys(config))
    if (config[key] === undefined) delete config[key];
  return config as pg.ClientConfig;
}

/**
 * `config` bounded on the client side, for the connections the library opens itself (the
 * worker's pool, the LISTEN connection): a query not answered within `timeoutMs` fails
 * (pg's `query_timeout`), and so does a connection not established within it (or within
 * the DataSource's shorter `connectTimeoutMS`); waiting for a connection of a full pg Pool
 * is bounded by the same setting. Without these, a partition that drops packets instead of
 * closing connections leaves statements waiting forever: TCP keepalive is answered by any
 * proxy in between and, unanswered, takes minutes.
 */
export function withClientTimeouts(
  config: pg.ClientConfig,
  timeoutMs: number,
): pg.ClientConfig {
  const own = config.connectionTimeoutMillis;
  return {
    ...config,
    query_timeout: timeoutMs,
    connectionTimeoutMillis:
      own !== undefined && own > 0 ? Math.min(own, timeoutMs) : timeoutMs,
  };
}
