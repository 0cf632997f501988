import {
  Body,
  Catch,
  Controller,
  Delete,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  UseFilters,
  UseGuards,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  BulkLimitError,
  InvalidJobFilterError,
  InvalidJobIdError,
  JobControl,
  JobNotFoundError,
  JobStateError,
  UniqueKeyHeldError,
  type JobFilter,
  type JobsError,
} from 'nest-jobs';
import { AdminTokenGuard } from './admin-token.guard.js';

const STATUS_OF = new Map<Function, HttpStatus>([
  [JobNotFoundError, HttpStatus.NOT_FOUND],
  [JobStateError, HttpStatus.CONFLICT],
  [UniqueKeyHeldError, HttpStatus.CONFLICT],
  [InvalidJobIdError, HttpStatus.BAD_REQUEST],
  [InvalidJobFilterError, HttpStatus.BAD_REQUEST],
  [BulkLimitError, HttpStatus.BAD_REQUEST],
]);

/** The operator actions' typed errors as 404 (no such job), 409 (its state) and 400 (bad input). */
@Catch(
  JobNotFoundError,
  JobStateError,
  UniqueKeyHeldError,
  InvalidJobIdError,
  InvalidJobFilterError,
  BulkLimitError,
)
export class JobControlErrorsFilter implements ExceptionFilter<JobsError> {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: JobsError, host: ArgumentsHost): void {
    const status = STATUS_OF.get(error.constructor) ?? HttpStatus.BAD_REQUEST;
    this.adapterHost.httpAdapter.reply(
      host.switchToHttp().getResponse(),
      { statusCode: status, error: error.name, message: error.message },
      status,
    );
  }
}

/** Body of POST /jobs/redrive: the filter (dates as ISO strings) and an optional limit. */
interface RedriveBody {
  queue?: string;
  name?: string;
  errorContains?: string;
  statuses?: JobFilter['statuses'];
  finishedAfter?: string;
  finishedBefore?: string;
  limit?: number;
}

/** Operator actions over HTTP (JobControl), behind AdminTokenGuard. */
@Controller('admin/jobs')
@UseGuards(AdminTokenGuard)
@UseFilters(JobControlErrorsFilter)
export class JobControlController {
  constructor(private readonly control: JobControl) {}

  @Post(':id/cancel')
  @HttpCode(HttpStatus.NO_CONTENT)
  cancel(@Param('id') id: string): Promise<void> {
    return this.control.cancel(id);
  }

  @Post(':id/retry')
  @HttpCode(HttpStatus.NO_CONTENT)
  retry(@Param('id') id: string): Promise<void> {
    return this.control.retry(id);
  }

  @Post(':id/run-now')
  @HttpCode(HttpStatus.NO_CONTENT)
  runNow(@Param('id') id: string): Promise<void> {
    return this.control.runNow(id);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  delete(@Param('id') id: string): Promise<void> {
    return this.control.delete(id);
  }

  /** Retries failed (or, with `statuses`, cancelled) jobs matching the body; answers how many. */
  @Post('redrive')
  async redrive(@Body() body: RedriveBody = {}): Promise<{ moved: number }> {
    const { limit, finishedAfter, finishedBefore, ...rest } = body ?? {};
    const filter: JobFilter = { ...rest };
    if (finishedAfter !== undefined)
      filter.finishedAfter = new Date(finishedAfter);
    if (finishedBefore !== undefined)
      filter.finishedBefore = new Date(finishedBefore);
    return { moved: await this.control.redrive(filter, { limit }) };
  }
}
