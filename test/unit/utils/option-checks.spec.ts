import { describe, expect, it } from '@jest/globals';
import { InvalidJobsOptionError } from '../../../packages/nest-jobs/src/errors/invalid-options.error.js';
import { checkName } from '../../../packages/nest-jobs/src/utils/option-checks.js';

describe('checkName', () => {
  it('accepts names PostgreSQL can store, astral characters included', () => {
    expect(checkName('queue', 'emails')).toBe('emails');
    expect(checkName('queue', 'mails-😀')).toBe('mails-😀');
    // A member of Object.prototype is a name like any other.
    expect(checkName('queue', 'constructor')).toBe('constructor');
  });

  const refused: Array<[string, unknown, string]> = [
    ['empty', '', 'expected a non-empty string, got ""'],
    ['not a string', 5, 'expected a non-empty string, got 5'],
    [
      'padded',
      ' emails',
      'expected no leading or trailing white space, got " emails"',
    ],
    [
      'U+0000',
      'em\u0000ails',
      'expected text PostgreSQL can store (contains U+0000 at index 2), got "em\\u0000ails"',
    ],
    [
      'a lone surrogate',
      'mails\ud83d',
      'expected text PostgreSQL can store (contains a lone surrogate U+D83D at index 5), got "mails\\ud83d"',
    ],
  ];
  it.each(refused)(
    'refuses a %s name with the option named',
    (_kind, value, message) => {
      expect(() => checkName('jobs[2].queue', value)).toThrow(
        InvalidJobsOptionError,
      );
      expect(() => checkName('jobs[2].queue', value)).toThrow(
        `Invalid nest-jobs option "jobs[2].queue": ${message}`,
      );
    },
  );
});
