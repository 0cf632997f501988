import {
  BadRequestException,
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Post,
} from '@nestjs/common';
import { JobsService } from 'nest-jobs';
import { optionalInteger, requiredString } from '../common/input-fields.js';
import { ParseInputPipe } from '../common/parse-input.pipe.js';
import { LedgerBook, type LedgerEntry } from './ledger-book.service.js';
import { LedgerJob } from './ledger.job.js';

interface EntriesInput {
  amounts: number[];
  reject: boolean;
  reserve: boolean;
}

const AMOUNT = { min: -1_000_000, max: 1_000_000 };
const MAX_ENTRIES = 100;

const parseEntries = (input: Record<string, unknown>): EntriesInput => {
  const raw = input.amounts ?? [input.amount];
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > MAX_ENTRIES)
    throw new BadRequestException(
      `amounts must be an array of 1 to ${MAX_ENTRIES} integers`,
    );
  const amounts = raw.map((amount, index) => {
    const checked = optionalInteger(
      { [`amounts[${index}]`]: amount },
      `amounts[${index}]`,
      AMOUNT,
    );
    if (checked === undefined)
      throw new BadRequestException(`amounts[${index}] must be an integer`);
    return checked;
  });
  return {
    amounts,
    reject: input.reject === true,
    reserve: input.reserve === true,
  };
};

/** POST /ledger/:account/entries, GET /ledger/:account. */
@Controller('ledger')
export class LedgerController {
  constructor(
    private readonly jobs: JobsService,
    private readonly book: LedgerBook,
  ) {}

  /**
   * Enqueues the entries (`{"amounts":[10,-3,5]}` or `{"amount":10}`; `"reject":true`
   * makes them fail for good) in the ordered queue `ledger`, keyed by account: they post in
   * this order, one at a time. `"reserve":true` only reserves their places: they post once
   * an operator commits them (POST /admin/jobs/:id/run-now), and hold the account's later
   * entries until then.
   */
  @Post(':account/entries')
  @HttpCode(202)
  async post(
    @Param('account') rawAccount: string,
    @Body(new ParseInputPipe(parseEntries)) input: EntriesInput,
  ): Promise<{ jobIds: string[] }> {
    const account = requiredString({ account: rawAccount }, 'account', 100);
    return {
      jobIds: await this.jobs.enqueueMany(
        LedgerJob,
        'post',
        input.amounts.map((amount) => ({
          account,
          amount,
          ...(input.reject ? { reject: true } : {}),
        })),
        {
          orderingKey: `account:${account}`,
          ...(input.reserve ? { reserve: true } : {}),
        },
      ),
    };
  }

  /** The account's entries in the order they were posted, with the running balance. */
  @Get(':account')
  entries(@Param('account') account: string): {
    entries: readonly LedgerEntry[];
  } {
    return { entries: this.book.entries(account) };
  }
}
