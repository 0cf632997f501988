import { Injectable } from '@nestjs/common';
import { Job, type JobContext } from 'nest-jobs';

/** A provider with one job handler, as the README's "Write handlers with @Job()" shows. */
@Injectable()
export class Greeter {
  private resolveGreeted!: (greeting: string) => void;

  /** The handler's effect: settles with the greeting of the first job it ran. */
  readonly greeted = new Promise<string>((resolve) => {
    this.resolveGreeted = resolve;
  });

  @Job({ queue: 'greetings', maxRetries: 0 })
  async greet(payload: { name: string }, ctx: JobContext): Promise<void> {
    this.resolveGreeted(
      `Hello, ${payload.name} (job ${ctx.id}, attempt ${ctx.attempt})`,
    );
  }
}
