import { describe, expect, it } from '@jest/globals';
import {
  CANCEL_MESSAGE_PREFIX,
  parseCancelMessage,
} from '../../../packages/nest-jobs/src/notifications/cancel-message.js';

describe('cancel message', () => {
  const id = '01a250bb-6396-74e0-82d2-6e2302b73c83';

  it('reads the attempt a cancel message names', () => {
    expect(parseCancelMessage(`\u0001cancel:${id}:3:1`)).toEqual({
      id,
      attempt: 3,
      releases: 1,
    });
    expect(CANCEL_MESSAGE_PREFIX).toBe('\u0001cancel:');
  });

  it('takes every queue name, and a malformed message, for something else', () => {
    for (const payload of [
      'default',
      'cancel:x:1:0',
      '',
      `\u0001cancel:`,
      `\u0001cancel:${id}`,
      `\u0001cancel:${id}:one:0`,
      `\u0001cancel:${id}:1:0.5`,
    ])
      expect(parseCancelMessage(payload)).toBeNull();
  });
});
