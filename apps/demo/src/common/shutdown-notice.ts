import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
} from '@nestjs/common';

/**
 * Says that a shutdown has begun, so that the pause while the worker drains does not look
 * like a hang. Root-module hooks run before those of global modules such as JobsModule,
 * so this line comes before the worker's own.
 */
@Injectable()
export class ShutdownNotice implements BeforeApplicationShutdown {
  private readonly logger = new Logger('Demo');

  beforeApplicationShutdown(signal?: string): void {
    this.logger.log(
      `${signal ? `Received ${signal}` : 'Closing'}: shutting down (the worker lets running jobs finish first)`,
    );
  }
}
