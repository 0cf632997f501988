import { BadRequestException } from '@nestjs/common';
import { requiredString } from '../common/input-fields.js';

/** Body of POST /users. */
export interface CreateUserInput {
  /** Stored lowercased, so the unique constraint ignores case. */
  email: string;
  name: string;
}

/** Validates the body of POST /users. */
export function parseCreateUser(
  input: Record<string, unknown>,
): CreateUserInput {
  const email = requiredString(input, 'email', 320).toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(email)) {
    throw new BadRequestException(
      `email must look like an email address, got ${JSON.stringify(email)}`,
    );
  }
  return { email, name: requiredString(input, 'name', 200) };
}
