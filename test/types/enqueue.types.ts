/**
 * Compile-time checks of the typed enqueue API, verified by `tsc -p test` (part of
 * `npm test`). Each @ts-expect-error must stay an error: if the API stopped checking the
 * payload against the handler's first parameter, the directive itself would fail the build.
 * Nothing here runs.
 */
import { Job, type JobContext, type JobsService } from 'nest-jobs';

class Mailer {
  readonly notAMethod = 1;

  @Job({ queue: 'emails' })
  async sendWelcome(
    _payload: { email: string; name?: string },
    _ctx: JobContext,
  ) {}

  @Job()
  ping() {}
}

export async function typedEnqueueExamples(
  jobs: JobsService,
): Promise<string[]> {
  const ids = [
    await jobs.enqueue(Mailer, 'sendWelcome', { email: 'a@example.com' }),
    await jobs.enqueue(
      Mailer,
      'sendWelcome',
      { email: 'a@example.com', name: 'Ada' },
      { delay: 10 },
    ),
    await jobs.enqueue('Mailer.sendWelcome', { anything: 'goes by name' }),
    ...(await jobs.enqueueMany(Mailer, 'sendWelcome', [
      { email: 'a' },
      { email: 'b' },
    ])),
    ...(await jobs.enqueueMany([{ name: 'Mailer.ping', payload: {} }])),
  ];

  // @ts-expect-error email must be a string
  await jobs.enqueue(Mailer, 'sendWelcome', { email: 42 });
  // @ts-expect-error email is required
  await jobs.enqueue(Mailer, 'sendWelcome', { name: 'Ada' });
  // @ts-expect-error unknown property
  await jobs.enqueue(Mailer, 'sendWelcome', { email: 'a', mail: 'typo' });
  // @ts-expect-error no such method
  await jobs.enqueue(Mailer, 'sendGoodbye', { email: 'a' });
  // @ts-expect-error a property, not a method
  await jobs.enqueue(Mailer, 'notAMethod', 1);
  // @ts-expect-error a wrong payload inside a bulk enqueue
  await jobs.enqueueMany(Mailer, 'sendWelcome', [
    { email: 'a' },
    { email: null },
  ]);
  // @ts-expect-error options are checked too
  await jobs.enqueue(Mailer, 'sendWelcome', { email: 'a' }, { delay: '5s' });
  // @ts-expect-error the returned id is a string
  const id: number = await jobs.enqueue(Mailer, 'sendWelcome', { email: 'a' });

  return [...ids, String(id)];
}
