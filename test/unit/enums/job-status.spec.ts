import { describe, expect, it } from '@jest/globals';
import {
  JobStatus,
  parseJobStatus,
} from '../../../packages/nest-jobs/src/enums/job-status.enum.js';
import { UnknownJobStatusError } from '../../../packages/nest-jobs/src/errors/unknown-job-status.error.js';

describe('JobStatus', () => {
  it('has the five lowercase states', () => {
    expect(Object.values(JobStatus)).toEqual([
      'pending',
      'running',
      'completed',
      'failed',
      'cancelled',
    ]);
  });

  it('parses every state from its string form', () => {
    for (const status of Object.values(JobStatus))
      expect(parseJobStatus(status)).toBe(status);
  });

  it.each(['PENDING', 'Running', 'done', '', ' pending'])(
    'rejects %j with an error naming it',
    (value) => {
      expect(() => parseJobStatus(value)).toThrow(UnknownJobStatusError);
      expect(() => parseJobStatus(value)).toThrow(
        `Unknown job status ${JSON.stringify(value)}`,
      );
    },
  );
});
