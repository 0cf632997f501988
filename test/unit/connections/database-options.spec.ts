import { describe, expect, it } from '@jest/globals';
import { resolveDatabaseOptions } from '../../../packages/nest-jobs/src/connections/database.options.js';
import { InvalidJobsOptionError } from '../../../packages/nest-jobs/src/errors/invalid-options.error.js';

describe('resolveDatabaseOptions', () => {
  it('defaults: names decided at start-up, LISTEN checked, nothing routed elsewhere', () => {
    expect(resolveDatabaseOptions(undefined)).toEqual({
      preparedStatements: 'auto',
      directUrl: undefined,
      directWorkerPool: false,
      wakeUps: 'listen',
      listenCheckMs: 5_000,
    });
  });

  it('keeps what is given', () => {
    expect(
      resolveDatabaseOptions({
        preparedStatements: false,
        directUrl: 'postgresql://db.internal:5432/app',
        directWorkerPool: true,
        wakeUps: 'poll',
        listenCheckMs: 1_000,
      }),
    ).toEqual({
      preparedStatements: false,
      directUrl: 'postgresql://db.internal:5432/app',
      directWorkerPool: true,
      wakeUps: 'poll',
      listenCheckMs: 1_000,
    });
  });

  it('does not repeat the password of a directUrl it refuses', () => {
    expect(() =>
      resolveDatabaseOptions({ directUrl: 'pgsql://app:s3cret@db/app' }),
    ).toThrow(/pgsql:\/\/app:\*\*\*@db\/app/);
  });

  it.each([
    [{ preparedStatements: 'yes' }, 'database.preparedStatements'],
    [{ directUrl: 'db.internal:5432' }, 'database.directUrl'],
    [{ directUrl: 'mysql://db/app' }, 'database.directUrl'],
    [{ wakeUps: 'notify' }, 'database.wakeUps'],
    [{ listenCheckMs: 0 }, 'database.listenCheckMs'],
    [{ directWorkerPool: true }, 'database.directWorkerPool'],
    [
      { directWorkerPool: 'yes', directUrl: 'postgres://x/y' },
      'database.directWorkerPool',
    ],
    [{ pooler: true }, 'database.pooler'],
  ])('refuses %j naming %s', (raw, option) => {
    expect(() => resolveDatabaseOptions(raw)).toThrow(InvalidJobsOptionError);
    expect(() => resolveDatabaseOptions(raw)).toThrow(option);
  });
});
