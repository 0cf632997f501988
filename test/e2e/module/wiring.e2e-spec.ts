import { describe, expect, it } from '@jest/globals';
import {
  Inject,
  Injectable,
  Module,
  type ConfigurableModuleOptionsFactory,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  getDataSourceToken,
  getRepositoryToken,
  InjectRepository,
  TypeOrmModule,
} from '@nestjs/typeorm';
import {
  JobEntity,
  Job,
  JobsModule,
  JobsService,
  JobsWorker,
  JobStatus,
  NEST_JOBS_MIGRATIONS,
  type JobContext,
  type JobsModuleOptions,
} from 'nest-jobs';
import { DataSource, Repository } from 'typeorm';
import { CapturingLogger } from '../../support/jobs-app.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { waitForStatus } from '../../support/jobs-table.js';
import { otherConnections } from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';

const GREETING = Symbol('GREETING');

/** A handler with constructor DI of a TypeORM repository and a plain value provider. */
@Injectable()
class AuditedMailer {
  readonly sent: string[] = [];
  constructor(
    @InjectRepository(JobEntity)
    private readonly jobsRepository: Repository<JobEntity>,
    @Inject(GREETING) private readonly greeting: string,
  ) {}

  @Job({ name: 'mail.welcome', queue: 'emails' })
  async sendWelcome(payload: { email: string }, ctx: JobContext) {
    const self = await this.jobsRepository.findOneByOrFail({ id: ctx.id });
    this.sent.push(
      `${this.greeting} ${payload.email} (row ${self.status}, queue ${ctx.queue})`,
    );
  }
}

@Injectable()
class JobsConfig implements ConfigurableModuleOptionsFactory<
  JobsModuleOptions,
  'create'
> {
  create(): JobsModuleOptions {
    return { runMigrations: true, worker: { concurrency: 4 } };
  }
}

@Module({ providers: [JobsConfig], exports: [JobsConfig] })
class ConfigModule {}

describe('JobsModule wiring', () => {
  const suite = useJobsSuite('wiring');
  const { db } = suite;

  async function enqueueAndRun(
    app: { get<T>(t: unknown): T },
    email: string,
  ): Promise<void> {
    const id = await app
      .get<JobsService>(JobsService)
      .enqueue(AuditedMailer, 'sendWelcome', { email });
    await waitForStatus(db, id, 'completed');
  }

  it('forRoot: discovers handlers and injects their dependencies', async () => {
    const app = await suite.app({
      providers: [AuditedMailer, { provide: GREETING, useValue: 'Hello' }],
      imports: [TypeOrmModule.forFeature([JobEntity])],
    });
    await enqueueAndRun(app, 'ada@example.com');
    expect(app.get(AuditedMailer).sent).toEqual([
      'Hello ada@example.com (row running, queue emails)',
    ]);
    expect(app.logger.messages('log')).toContain(
      'Registered job "mail.welcome" (queue "emails") -> AuditedMailer#sendWelcome',
    );
  });

  it('forRoot() with no argument uses the default DataSource', async () => {
    const app = await suite.app({
      jobsModule: JobsModule.forRoot(),
      providers: [AuditedMailer, { provide: GREETING, useValue: 'Hi' }],
      imports: [TypeOrmModule.forFeature([JobEntity])],
    });
    expect(app.get(JobsWorker).workedQueues).toEqual(['emails']);
    await enqueueAndRun(app, 'bob@example.com');
  });

  const asyncVariants: Array<
    [string, () => ReturnType<typeof JobsModule.forRootAsync>]
  > = [
    [
      'useFactory with imports and inject',
      () =>
        JobsModule.forRootAsync({
          imports: [ConfigModule],
          inject: [JobsConfig],
          useFactory: async (config: JobsConfig) => ({
            ...config.create(),
            worker: { concurrency: 3 },
          }),
        }),
    ],
    ['useClass', () => JobsModule.forRootAsync({ useClass: JobsConfig })],
    [
      'useExisting',
      () =>
        JobsModule.forRootAsync({
          imports: [ConfigModule],
          useExisting: JobsConfig,
        }),
    ],
  ];
  it.each(asyncVariants)('forRootAsync %s', async (_variant, jobsModule) => {
    const app = await suite.app({
      jobsModule: jobsModule(),
      providers: [AuditedMailer, { provide: GREETING, useValue: 'Hey' }],
      imports: [TypeOrmModule.forFeature([JobEntity])],
    });
    await enqueueAndRun(app, 'cy@example.com');
    expect(app.get(AuditedMailer).sent).toHaveLength(1);
  });

  it('uses a named DataSource through the dataSourceToken extra', async () => {
    const logger = new CapturingLogger();
    const module = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          name: 'jobsdb',
          type: 'postgres',
          url: db.url,
          entities: [JobEntity],
        }),
        TypeOrmModule.forFeature([JobEntity], 'jobsdb'),
        JobsModule.forRoot({
          dataSourceToken: getDataSourceToken('jobsdb'),
          runMigrations: true,
        }),
      ],
      providers: [
        { provide: GREETING, useValue: 'Named' },
        {
          provide: AuditedMailer,
          useFactory: (repository: Repository<JobEntity>, greeting: string) =>
            new AuditedMailer(repository, greeting),
          inject: [getRepositoryToken(JobEntity, 'jobsdb'), GREETING],
        },
      ],
    })
      .setLogger(logger)
      .compile();
    await module.init();
    try {
      const id = await module
        .get(JobsService)
        .enqueue('mail.welcome', { email: 'named@example.com' });
      await waitForStatus(db, id, 'completed');
      expect(module.get(AuditedMailer).sent).toEqual([
        'Named named@example.com (row running, queue emails)',
      ]);
    } finally {
      await module.close();
    }
  });

  it('uses a DataSource instance from the options and never destroys it', async () => {
    const dataSource = new DataSource({
      type: 'postgres',
      url: db.url,
      entities: [JobEntity],
      migrations: NEST_JOBS_MIGRATIONS,
    });
    await dataSource.initialize();
    try {
      await dataSource.runMigrations();
      const module = await Test.createTestingModule({
        imports: [
          JobsModule.forRootAsync({ useFactory: () => ({ dataSource }) }),
        ],
        providers: [
          { provide: GREETING, useValue: 'Own' },
          {
            provide: AuditedMailer,
            useFactory: (greeting: string) =>
              new AuditedMailer(dataSource.getRepository(JobEntity), greeting),
            inject: [GREETING],
          },
        ],
      })
        .setLogger(new CapturingLogger())
        .compile();
      await module.init();
      const id = await module
        .get(JobsService)
        .enqueue(AuditedMailer, 'sendWelcome', { email: 'own@example.com' });
      await waitForStatus(db, id, 'completed');
      await module.close();
      expect(dataSource.isInitialized).toBe(true);
      const job = await dataSource
        .getRepository(JobEntity)
        .findOneByOrFail({ id });
      expect(job).toMatchObject({
        status: JobStatus.Completed,
        jobType: 'mail.welcome',
        queue: 'emails',
        attempts: 1,
      });
    } finally {
      await dataSource.destroy();
    }
  });

  it('isGlobal makes JobsService injectable in modules that do not import JobsModule', async () => {
    @Injectable()
    class SignupService {
      constructor(readonly jobs: JobsService) {}
    }
    @Module({ providers: [SignupService], exports: [SignupService] })
    class SignupModule {}

    const app = await suite.app({
      jobsModule: JobsModule.forRoot({
        isGlobal: true,
        runMigrations: true,
        worker: { enabled: false },
      }),
      imports: [SignupModule],
    });
    expect(app.get(SignupService).jobs).toBeInstanceOf(JobsService);
  });

  it('leaves no connection behind once the apps are closed', async () => {
    await waitFor(
      'all app connections to close',
      async () => (await otherConnections(db)).length === 0,
    );
  });
});
