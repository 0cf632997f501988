/**
 * Runs the demo: `npm run demo` at the repository root. PostgreSQL comes from DATABASE_URL,
 * or from an embedded server whose data stays in apps/demo/.data/postgres between runs.
 * PORT (default 3000) is the HTTP port. See apps/demo/README.md for a walk-through.
 */
import { ConsoleLogger } from '@nestjs/common';
import { createDemoApp, DEMO_LOG_LEVELS } from './create-demo-app.js';
import { readPort, resolveDemoDatabase } from './database/demo-database.js';
import { EmbeddedPostgresStartError } from './database/embedded-postgres.launcher.js';

const logger = new ConsoleLogger('Demo', { logLevels: DEMO_LOG_LEVELS });

async function main(): Promise<void> {
  const port = readPort(process.env, 'PORT') ?? 3000;
  const databaseUrl = await resolveDemoDatabase(process.env, logger);
  const app = await createDemoApp({ databaseUrl, port, logger });
  // SIGINT/SIGTERM close the app: the worker finishes (or returns) its running jobs first.
  app.enableShutdownHooks();
  logger.log(`Listening on http://localhost:${port}`);
  logger.log(
    `Try: curl -X POST localhost:${port}/users -H 'content-type: application/json' ` +
      `-d '{"email":"ada@example.com","name":"Ada"}'`,
  );
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  // The launcher's message is complete; for anything unexpected the stack helps.
  const stack =
    error instanceof Error && !(error instanceof EmbeddedPostgresStartError)
      ? error.stack
      : undefined;
  logger.error(`The demo could not start: ${message}`, stack);
  process.exit(1);
});
