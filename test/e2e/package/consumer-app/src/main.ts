/**
 * A user's program on the installed package: boots the application context, enqueues one
 * job, waits for its handler, closes the app, and prints one JSON line for the test. The
 * process must then end by itself: a timer or connection that nest-jobs left open would
 * keep it alive, so a watchdog (which itself holds nothing open) reports that and exits 2.
 */
import { NestFactory } from '@nestjs/core';
import { JobsService } from 'nest-jobs';
import { AppModule } from './app.module.js';
import { Greeter } from './greeter.js';

const JOB_DEADLINE_MS = 20_000;
const EXIT_DEADLINE_MS = 5_000;

async function withDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no ${what} within ${JOB_DEADLINE_MS} ms`)),
      JOB_DEADLINE_MS,
    );
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

const app = await NestFactory.createApplicationContext(AppModule, {
  logger: ['error', 'warn'],
});
try {
  const id = await app
    .get(JobsService)
    .enqueue(Greeter, 'greet', { name: 'Ada' });
  const greeting = await withDeadline(
    app.get(Greeter).greeted,
    'run of the job',
  );
  console.log(JSON.stringify({ id, greeting }));
} finally {
  await app.close();
}

setTimeout(() => {
  console.error(
    `still running ${EXIT_DEADLINE_MS} ms after app.close(): ` +
      process.getActiveResourcesInfo().join(', '),
  );
  process.exit(2);
}, EXIT_DEADLINE_MS).unref();
