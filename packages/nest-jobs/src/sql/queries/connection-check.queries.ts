/**
 * Statements of the start-up pooler check (connections/pooler-detection.ts), sent unnamed on
 * its own two clients: nothing of the jobs table.
 */
export const connectionCheckQueries = {
  backendPid: 'SELECT pg_backend_pid() AS pid',
  begin: 'BEGIN',
  commit: 'COMMIT',
} as const;
