import { BadRequestException, type PipeTransform } from '@nestjs/common';

/** Turns an untrusted JSON object (body or query) into `T`, or throws a BadRequestException. */
export type InputParser<T> = (input: Record<string, unknown>) => T;

/**
 * Runs an `InputParser` on `@Body()` or `@Query()`. The demo keeps its validation in plain
 * functions (no class-validator) so that each endpoint's rules read in one place.
 */
export class ParseInputPipe<T> implements PipeTransform<unknown, T> {
  constructor(private readonly parse: InputParser<T>) {}

  transform(value: unknown): T {
    // Express leaves the body undefined when the request has none.
    const input = value ?? {};
    if (typeof input !== 'object' || Array.isArray(input)) {
      throw new BadRequestException('Expected a JSON object');
    }
    return this.parse(input as Record<string, unknown>);
  }
}
