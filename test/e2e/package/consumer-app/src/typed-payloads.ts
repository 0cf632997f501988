import type { JobsService } from 'nest-jobs';
import { Greeter } from './greeter.js';

/**
 * Never called: it compiles only while the published declarations check a payload against
 * its handler (each @ts-expect-error must stay an error, or tsc fails on the directive).
 */
export async function typedPayloads(jobs: JobsService): Promise<void> {
  await jobs.enqueue(Greeter, 'greet', { name: 'Ada' });
  // @ts-expect-error name must be a string
  await jobs.enqueue(Greeter, 'greet', { name: 42 });
  // @ts-expect-error Greeter has no handler named wave
  await jobs.enqueue(Greeter, 'wave', { name: 'Ada' });
}
