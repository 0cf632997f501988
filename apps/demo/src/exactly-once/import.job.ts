import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { Job, type JobContext } from 'nest-jobs';
import { DataSource } from 'typeorm';

/** Payload of the import job: `lines` lines, one transaction each. */
export interface ImportPayload {
  lines: number;
  /** Throw right after this line (0-based), on the first attempt: the next one resumes. */
  failAfterLine?: number;
}

/** Where the import stands: the next line to import. */
interface ImportCheckpoint {
  next: number;
}

/** A pause per line, so that the import can be watched (and interrupted). */
const LINE_PAUSE_MS = 20;

/**
 * A resumable long job: each line is written together with the checkpoint that records it,
 * in one transaction, so a crash (or a failure) at any point loses no committed line and
 * repeats none: the next attempt starts from `ctx.lastCheckpoint`. With
 * `checkpointKeepsRetries`, an attempt that made progress does not use up a retry.
 */
@Injectable()
export class ImportJob {
  constructor(@Inject(DataSource) private readonly dataSource: DataSource) {}

  @Job({
    name: 'imports.lines',
    queue: 'imports',
    maxRetries: 1,
    checkpointKeepsRetries: true,
  })
  async importLines(payload: ImportPayload, ctx: JobContext): Promise<void> {
    const checkpoint = ctx.lastCheckpoint as ImportCheckpoint | undefined;
    for (let line = checkpoint?.next ?? 0; line < payload.lines; line += 1) {
      ctx.signal.throwIfAborted();
      await this.dataSource.transaction(async (manager) => {
        await manager.query(
          'INSERT INTO import_lines (job_id, line, attempt) VALUES ($1, $2, $3)',
          [ctx.id, line, ctx.attempt],
        );
        await ctx.checkpoint({ next: line + 1 } satisfies ImportCheckpoint, {
          manager,
        });
      });
      ctx.progress({ done: line + 1, of: payload.lines });
      if (payload.failAfterLine === line && ctx.attempt === 1)
        throw new Error(`Simulated crash after line ${line}`);
      await sleep(LINE_PAUSE_MS, undefined, { signal: ctx.signal });
    }
  }
}
