import { createHash, timingSafeEqual } from 'node:crypto';
import {
  ForbiddenException,
  Inject,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { DEMO_CONFIG, type DemoConfig } from '../config/demo-config.js';

/**
 * Guards the operator routes (reading every job's payload, pausing queues): a request must
 * carry `Authorization: Bearer <DEMO_ADMIN_TOKEN>`. Default-deny: without a configured token
 * every request is refused (403), so a demo started without one exposes nothing. The token is
 * compared in constant time (digests of equal length, whatever was sent) and never logged.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  private readonly expected: Buffer | null;

  constructor(@Inject(DEMO_CONFIG) config: DemoConfig) {
    this.expected =
      config.adminToken === null ? null : digest(config.adminToken);
  }

  canActivate(context: ExecutionContext): boolean {
    if (this.expected === null)
      throw new ForbiddenException(
        'The admin routes are disabled: start the demo with DEMO_ADMIN_TOKEN set (at least 16 characters) to use them',
      );
    const header = context
      .switchToHttp()
      .getRequest<{ headers: Record<string, unknown> }>().headers.authorization;
    const match =
      typeof header === 'string' ? /^Bearer (\S+)$/i.exec(header.trim()) : null;
    if (!match || !timingSafeEqual(digest(match[1]!), this.expected))
      throw new UnauthorizedException(
        'The admin routes need the header Authorization: Bearer <DEMO_ADMIN_TOKEN>',
      );
    return true;
  }
}

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
