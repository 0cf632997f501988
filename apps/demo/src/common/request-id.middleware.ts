import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Injectable, Logger, type NestMiddleware } from '@nestjs/common';
import { runWithTraceId } from 'nest-jobs';

/** Header that carries the request id in both directions. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** What a client may send as its own request id; anything else is replaced by a uuid. */
const ACCEPTED_ID = /^[\w.:-]{1,64}$/;

/**
 * Gives every request an id (the client's `x-request-id`, or a new uuid), echoes it in the
 * response, and runs the rest of the request inside `runWithTraceId`: every job enqueued
 * while handling it stores the id in `trace_id`, and the worker prints it on each line
 * about the job. It also writes one access-log line carrying the same id.
 */
@Injectable()
export class RequestIdMiddleware implements NestMiddleware {
  private readonly logger = new Logger('HTTP');

  use(request: IncomingMessage, response: ServerResponse, next: () => void) {
    const given = request.headers[REQUEST_ID_HEADER];
    const id =
      typeof given === 'string' && ACCEPTED_ID.test(given)
        ? given
        : randomUUID();
    response.setHeader(REQUEST_ID_HEADER, id);
    const started = performance.now();
    response.once('finish', () => {
      const ms = Math.round(performance.now() - started);
      this.logger.log(
        `${request.method} ${request.url} -> ${response.statusCode} in ${ms} ms [request ${id}]`,
      );
    });
    // Everything downstream (guards, pipes, the handler, its awaits) inherits the id.
    runWithTraceId(id, next);
  }
}
