import {
  BadRequestException,
  Body,
  ConflictException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Patch,
  Post,
  UseGuards,
} from '@nestjs/common';
import {
  DuplicateScheduleError,
  InvalidScheduleError,
  JobsReader,
  JobsSchedules,
  ScheduleNotFoundError,
  type EnqueueOutcome,
  type NewSchedule,
  type ScheduleChanges,
  type ScheduleView,
} from 'nest-jobs';
import { AdminTokenGuard } from './admin-token.guard.js';

/**
 * Recurring schedules over HTTP (JobsSchedules; the list from JobsReader): add, change,
 * pause, resume, trigger now and remove. The body goes to the library as it came: it checks
 * every field and names the bad one (400). Unknown name: 404; a name taken: 409.
 */
@UseGuards(AdminTokenGuard)
@Controller('admin/schedules')
export class SchedulesController {
  constructor(
    private readonly schedules: JobsSchedules,
    private readonly reader: JobsReader,
  ) {}

  @Get()
  list(): Promise<ScheduleView[]> {
    return this.reader.schedules();
  }

  @Get(':name')
  get(@Param('name') name: string): Promise<ScheduleView> {
    return answer(() => this.schedules.get(name));
  }

  /** `{ name, job, cron, timeZone?, payload?, missed?, overlap?, ... }` */
  @Post()
  add(@Body() body: unknown): Promise<ScheduleView> {
    return answer(() =>
      this.schedules.add(objectBody(body) as unknown as NewSchedule),
    );
  }

  @Patch(':name')
  update(
    @Param('name') name: string,
    @Body() body: unknown,
  ): Promise<ScheduleView> {
    return answer(() =>
      this.schedules.update(name, objectBody(body) as ScheduleChanges),
    );
  }

  @Post(':name/pause')
  @HttpCode(200)
  async pause(@Param('name') name: string): Promise<ScheduleView> {
    return answer(async () => {
      await this.schedules.pause(name);
      return this.schedules.get(name);
    });
  }

  @Post(':name/resume')
  @HttpCode(200)
  async resume(@Param('name') name: string): Promise<ScheduleView> {
    return answer(async () => {
      await this.schedules.resume(name);
      return this.schedules.get(name);
    });
  }

  /** Enqueues the schedule's job now; `duplicate` when its previous job still runs (overlap skip). */
  @Post(':name/trigger')
  @HttpCode(200)
  trigger(@Param('name') name: string): Promise<EnqueueOutcome> {
    return answer(() => this.schedules.trigger(name));
  }

  @Delete(':name')
  @HttpCode(204)
  remove(@Param('name') name: string): Promise<void> {
    return answer(() => this.schedules.remove(name));
  }
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new BadRequestException('expected a JSON object');
  return body as Record<string, unknown>;
}

/** The library's typed errors as HTTP statuses. */
async function answer<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError)
      throw new NotFoundException(error.message);
    if (error instanceof DuplicateScheduleError)
      throw new ConflictException(error.message);
    if (error instanceof InvalidScheduleError)
      throw new BadRequestException(error.message);
    throw error;
  }
}
