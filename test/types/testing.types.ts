/**
 * Compile-time checks of `nest-jobs/testing`, verified by `tsc -p test`: its helpers are
 * typed by the handler as `enqueue` is. Each @ts-expect-error must stay an error. Nothing
 * here runs.
 */
import { Test } from '@nestjs/testing';
import { Job, type JobContext } from 'nest-jobs';
import {
  JobsTesting,
  withManualWorker,
  type DrainResult,
  type EnqueuedJob,
  type PerformJobResult,
} from 'nest-jobs/testing';
import type { EntityManager } from 'typeorm';

class Mailer {
  @Job({ queue: 'emails' })
  async sendWelcome(
    _payload: { email: string; profile: { name: string; tags: string[] } },
    _ctx: JobContext,
  ): Promise<{ messageId: string }> {
    return { messageId: 'm' };
  }

  helper(_payload: { id: number }) {}
}

export async function testingExamples(
  testing: JobsTesting,
  manager: EntityManager,
): Promise<void> {
  // The testing module: a TestingModuleBuilder in, the same builder out.
  const builder = withManualWorker(Test.createTestingModule({ imports: [] }));
  JobsTesting.from(await builder.compile());

  const drained: DrainResult = await testing.drain({
    queues: ['emails'],
    withScheduled: true,
    follow: false,
    limit: 10,
  });
  const outcome: 'completed' | 'retried' | 'failed' | string =
    drained.attempts[0]!.outcome;
  // @ts-expect-error drain options are checked
  await testing.drain({ queues: 'emails' });

  // performJob: the payload is the handler's, the value what it resolves to.
  const performed: PerformJobResult<Promise<{ messageId: string }>> =
    await testing.performJob(Mailer, 'sendWelcome', {
      email: 'a@example.com',
      profile: { name: 'Ada', tags: [] },
    });
  const messageId: string | undefined = performed.value?.messageId;
  // @ts-expect-error the payload is checked against the handler
  await testing.performJob(Mailer, 'sendWelcome', { email: 1 });
  // @ts-expect-error no such method
  await testing.performJob(Mailer, 'sendGoodbye', {});

  // expectEnqueued: any part of the payload, at any depth; the job comes back typed.
  const job: EnqueuedJob<{
    email: string;
    profile: { name: string; tags: string[] };
  }> = await testing.expectEnqueued(
    Mailer,
    'sendWelcome',
    { profile: { name: 'Ada' } },
    { manager, count: 1, status: ['pending', 'running'] },
  );
  const name: string = job.payload.profile.name;
  await testing.expectEnqueued(Mailer, 'sendWelcome');
  await testing.expectEnqueued('Mailer.sendWelcome', { anything: 'by name' });
  // @ts-expect-error a partial payload is still the handler's shape
  await testing.expectEnqueued(Mailer, 'sendWelcome', { profile: { name: 1 } });
  // @ts-expect-error unknown key
  await testing.expectEnqueued(Mailer, 'sendWelcome', { mail: 'typo' });
  // @ts-expect-error not a state
  await testing.expectEnqueued(Mailer, 'sendWelcome', {}, { status: 'done' });
  await testing.expectNotEnqueued(Mailer, 'sendWelcome', { email: 'b' });
  // @ts-expect-error count does not apply to the negation
  await testing.expectNotEnqueued(Mailer, 'sendWelcome', {}, { count: 0 });

  // waitForJob: by id, or by handler and payload.
  const byId: { status: string } = await testing.waitForJob('id', {
    timeoutMs: 1_000,
  });
  const byPayload = await testing.waitForJob(
    Mailer,
    'sendWelcome',
    { email: 'a@example.com' },
    { status: 'completed' },
  );
  const email: string = byPayload.payload.email;

  // The clock.
  const at: Date = testing.clock.advance(30_000);
  testing.clock.set(new Date('2031-01-01'));
  testing.clock.reset();
  // @ts-expect-error milliseconds, not text
  testing.clock.advance('30s');

  void [outcome, messageId, name, byId, email, at];
}
