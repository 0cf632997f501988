import {
  Body,
  Controller,
  DefaultValuePipe,
  Get,
  ParseBoolPipe,
  Post,
  Query,
} from '@nestjs/common';
import { ParseInputPipe } from '../common/parse-input.pipe.js';
import { parseCreateUser, type CreateUserInput } from './create-user.input.js';
import type { User } from './user.entity.js';
import { UsersService } from './users.service.js';

/** POST /users (user + welcome email job in one transaction), GET /users. */
@Controller('users')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  /** Creates a user and, in the same transaction, its welcome email job. `?fail=true` rolls both back. */
  @Post()
  create(
    @Body(new ParseInputPipe(parseCreateUser)) input: CreateUserInput,
    @Query('fail', new DefaultValuePipe(false), ParseBoolPipe) fail: boolean,
  ): Promise<{ user: User; jobId: string }> {
    return this.users.create(input, fail);
  }

  @Get()
  list(): Promise<User[]> {
    return this.users.list();
  }
}
