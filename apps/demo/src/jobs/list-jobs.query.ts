import { BadRequestException } from '@nestjs/common';
import {
  parseJobStatus,
  UnknownJobStatusError,
  type JobStatus,
} from 'nest-jobs';
import { optionalInteger, optionalString } from '../common/input-fields.js';

/** Query of GET /jobs: filters (all optional) and the page to show. */
export interface ListJobsQuery {
  status?: JobStatus;
  queue?: string;
  /** Jobs enqueued by one request (its x-request-id). */
  traceId?: string;
  /** 1-based. */
  page: number;
  limit: number;
}

/** Validates the query of GET /jobs; an unknown status is a 400 with the library's message. */
export function parseListJobsQuery(
  input: Record<string, unknown>,
): ListJobsQuery {
  const status = optionalString(input, 'status');
  return {
    status: status === undefined ? undefined : parseStatus(status),
    queue: optionalString(input, 'queue'),
    traceId: optionalString(input, 'traceId'),
    page: optionalInteger(input, 'page', { min: 1, max: 1_000_000 }) ?? 1,
    limit: optionalInteger(input, 'limit', { min: 1, max: 100 }) ?? 20,
  };
}

function parseStatus(value: string): JobStatus {
  try {
    return parseJobStatus(value);
  } catch (error) {
    // The library's message already names the value and the accepted ones.
    if (error instanceof UnknownJobStatusError)
      throw new BadRequestException(error.message);
    throw error;
  }
}
