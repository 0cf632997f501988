import { Controller, Get, Query } from '@nestjs/common';
import {
  RecentEventsService,
  type RecentEvent,
} from './recent-events.service.js';

/** The last events nest-jobs emitted in this process (JobsEvents), newest first. */
@Controller('events')
export class EventsController {
  constructor(private readonly events: RecentEventsService) {}

  @Get()
  list(@Query('limit') limit?: string): RecentEvent[] {
    const parsed = Number(limit ?? 20);
    return this.events.list(
      Number.isInteger(parsed) && parsed > 0 ? Math.min(parsed, 200) : 20,
    );
  }
}
