import { rmSync } from 'node:fs';

export default async function globalTeardown() {
  const server = globalThis.__NEST_JOBS_EMBEDDED_PG__;
  if (server) {
    await server.stop();
    rmSync(server.dataDir, { recursive: true, force: true });
  }
}
