import { randomUUID } from 'node:crypto';
import {
  ConflictException,
  Injectable,
  InternalServerErrorException,
  Logger,
} from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { JobsService } from 'nest-jobs';
import { DataSource, QueryFailedError, Repository } from 'typeorm';
import type { CreateUserInput } from './create-user.input.js';
import { User } from './user.entity.js';
import { WelcomeEmailJob } from './welcome-email.job.js';

/** PostgreSQL's SQLSTATE for a unique constraint violation. */
const UNIQUE_VIOLATION = '23505';

/** Users, created together with their welcome email job. */
@Injectable()
export class UsersService {
  private readonly logger = new Logger(UsersService.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly jobs: JobsService,
  ) {}

  /**
   * Inserts the user and enqueues its welcome email in one transaction: the job exists if
   * and only if the user does, and no worker can see the job before the commit.
   * `simulateFailure` throws after the enqueue to show that a rollback takes the job with it.
   */
  async create(
    input: CreateUserInput,
    simulateFailure = false,
  ): Promise<{ user: User; jobId: string }> {
    try {
      return await this.dataSource.transaction(async (manager) => {
        const user = manager.create(User, { id: randomUUID(), ...input });
        await manager.insert(User, user);
        const jobId = await this.jobs.enqueue(
          WelcomeEmailJob,
          'send',
          { userId: user.id, email: user.email, name: user.name },
          { manager },
        );
        if (simulateFailure) {
          this.logger.warn(
            `Simulated failure after enqueueing job ${jobId}: rolling back user ${user.email} and the job`,
          );
          throw new InternalServerErrorException({
            statusCode: 500,
            error: 'Simulated failure',
            message:
              'The transaction failed after the enqueue and was rolled back: neither the user nor its welcome email job exists',
            rolledBack: { userId: user.id, jobId },
          });
        }
        return { user, jobId };
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new ConflictException(
          `A user with email ${input.email} already exists`,
        );
      }
      throw error;
    }
  }

  list(): Promise<User[]> {
    return this.users.find({ order: { createdAt: 'ASC' } });
  }
}

function isUniqueViolation(error: unknown): boolean {
  return (
    error instanceof QueryFailedError &&
    (error.driverError as { code?: string }).code === UNIQUE_VIOLATION
  );
}
