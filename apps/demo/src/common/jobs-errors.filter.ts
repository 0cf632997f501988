import {
  Catch,
  HttpStatus,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  InvalidJobsOptionError,
  InvalidPayloadError,
  UnknownJobError,
  UnknownJobStatusError,
  type JobsError,
} from 'nest-jobs';

/**
 * nest-jobs rejects a bad enqueue before writing anything, with an error whose message names
 * the culprit (the option, the payload path, the unknown job name). Those are the client's
 * mistakes, so they become 400 with that message instead of Nest's generic 500. Other
 * JobsErrors (e.g. EnqueueFailedError: the database refused) stay 500.
 */
@Catch(
  InvalidPayloadError,
  InvalidJobsOptionError,
  UnknownJobError,
  UnknownJobStatusError,
)
export class JobsErrorsFilter implements ExceptionFilter<JobsError> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: JobsError, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const body = {
      statusCode: HttpStatus.BAD_REQUEST,
      error: error.name,
      message: error.message,
    };
    httpAdapter.reply(
      host.switchToHttp().getResponse(),
      body,
      HttpStatus.BAD_REQUEST,
    );
  }
}
