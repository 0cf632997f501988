import { Injectable } from '@nestjs/common';

/** One posted entry of an account, in the order the ledger job posted it. */
export interface LedgerEntry {
  readonly amount: number;
  readonly balance: number;
  readonly jobId: string;
}

/**
 * The accounts' balances, in memory (a real application would post to its own tables in the
 * job's transaction). Entries of one account must be posted in the order they were
 * requested: the ordered queue `ledger` guarantees it across every instance.
 */
@Injectable()
export class LedgerBook {
  private readonly accounts = new Map<string, LedgerEntry[]>();

  post(account: string, amount: number, jobId: string): LedgerEntry {
    const entries = this.accounts.get(account) ?? [];
    const balance = (entries.at(-1)?.balance ?? 0) + amount;
    const entry = { amount, balance, jobId };
    this.accounts.set(account, [...entries, entry]);
    return entry;
  }

  entries(account: string): readonly LedgerEntry[] {
    return this.accounts.get(account) ?? [];
  }
}
