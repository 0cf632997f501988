import type { JobsEvents } from '../events/jobs-events.js';
import { JobTestingRepository } from '../sql/job-testing.repository.js';
import type { ClaimedJobRow } from '../sql/job-rows.js';
import {
  checkBoolean,
  checkInteger,
  checkName,
  checkPlainObject,
  optionError,
} from '../utils/option-checks.js';
import type {
  DrainedAttempt,
  DrainedOutcome,
  DrainOptions,
  DrainResult,
} from './drain-options.interface.js';
import type { WorkerParts } from './worker-parts.js';

/** Attempts a drain runs unless told otherwise: a job that snoozes forever still ends. */
export const DRAIN_DEFAULT_LIMIT = 1_000;
const DRAIN_MAX_LIMIT = 1_000_000;
const DRAIN_KEYS = ['queues', 'withScheduled', 'follow', 'limit'];
/** setTimeout's longest delay: "no deadline" for waiting until one attempt ends. */
const NO_DEADLINE_MS = 2 ** 31 - 1;

/** The outcome events of an attempt, and what each means for a drain. */
const OUTCOME_EVENTS = [
  ['job.completed', 'completed'],
  ['job.retried', 'retried'],
  ['job.failed', 'failed'],
  ['job.snoozed', 'snoozed'],
  ['job.rescheduled', 'rescheduled'],
  ['job.attempt-cancelled', 'cancelled'],
] as const;

/** DrainOptions, checked, with defaults applied. */
interface ResolvedDrain {
  readonly queues: readonly string[];
  readonly withScheduled: boolean;
  readonly follow: boolean;
  readonly limit: number;
}

/**
 * A manual worker's drain: rescues leases the clock expired, then claims due jobs one at a
 * time and runs each through the worker's own executor and outcome writer (the same
 * decisions, events and writes as a running worker), until none is due. One at a time, so
 * a test sees its jobs run in claim order (priority, then run_at).
 */
export class ManualDrain {
  private readonly testing: JobTestingRepository;

  constructor(
    private readonly parts: WorkerParts,
    private readonly events: JobsEvents,
    private readonly leaseMs: number,
    /** Hands a claimed row to the worker's executor (JobsWorker#startJob). */
    private readonly start: (row: ClaimedJobRow) => void,
  ) {
    this.testing = new JobTestingRepository(parts.repository);
  }

  /** @throws InvalidJobsOptionError naming a bad field of `options` (`drain.<field>`). */
  async run(
    workedQueues: readonly string[],
    options: DrainOptions | undefined,
  ): Promise<DrainResult> {
    const drain = resolveDrain(options, workedQueues);
    await this.parts.rescue.runNow();
    const attempts: DrainedAttempt[] = [];
    const ended = new Map<string, DrainedAttempt>();
    const stopListening = OUTCOME_EVENTS.map(([event, outcome]) =>
      this.events.on(event, (payload) => {
        const { job } = payload;
        const error = 'error' in payload ? payload.error : undefined;
        ended.set(`${job.id}:${job.attempt}`, {
          id: job.id,
          name: job.name,
          queue: job.queue,
          attempt: job.attempt,
          outcome: outcome as DrainedOutcome,
          ...(error === undefined ? {} : { error }),
        });
      }),
    );
    try {
      const onlyIds = drain.follow
        ? null
        : await this.testing.drainableIds(drain.queues, drain.withScheduled);
      if (onlyIds?.length === 0 || drain.queues.length === 0)
        return summarize(attempts, false);
      for (;;) {
        const [row] = await this.testing.drainClaim(
          drain.queues,
          1,
          this.leaseMs,
          drain.withScheduled,
          onlyIds,
        );
        if (!row) return summarize(attempts, false);
        if (attempts.length === drain.limit) {
          // One claimed too many: back to pending, uncounted, as a shutdown would.
          await this.parts.repository.release(
            [row],
            'Claimed by a drain past its limit',
          );
          return summarize(attempts, true);
        }
        this.start(row);
        await this.parts.slots.waitForIdle(NO_DEADLINE_MS);
        await this.parts.outcomes.flushed();
        const outcome = ended.get(`${row.id}:${row.attempt}`);
        if (outcome) attempts.push(outcome);
      }
    } finally {
      for (const stop of stopListening) stop();
    }
  }
}

function resolveDrain(
  options: DrainOptions | undefined,
  workedQueues: readonly string[],
): ResolvedDrain {
  const raw = checkPlainObject('drain', options ?? {}, DRAIN_KEYS) as Record<
    keyof DrainOptions,
    unknown
  >;
  let queues = workedQueues;
  if (raw.queues !== undefined) {
    if (!Array.isArray(raw.queues))
      throw optionError(
        'drain.queues',
        raw.queues,
        'expected an array of queue names',
      );
    queues = raw.queues.map((queue, index) =>
      checkName(`drain.queues[${index}]`, queue),
    );
  }
  return {
    queues,
    withScheduled:
      raw.withScheduled === undefined
        ? false
        : checkBoolean('drain.withScheduled', raw.withScheduled),
    follow:
      raw.follow === undefined
        ? true
        : checkBoolean('drain.follow', raw.follow),
    limit:
      raw.limit === undefined
        ? DRAIN_DEFAULT_LIMIT
        : checkInteger('drain.limit', raw.limit, 1, DRAIN_MAX_LIMIT),
  };
}

function summarize(
  attempts: readonly DrainedAttempt[],
  limitReached: boolean,
): DrainResult {
  const counts: Record<DrainedOutcome, number> = {
    completed: 0,
    retried: 0,
    failed: 0,
    snoozed: 0,
    rescheduled: 0,
    cancelled: 0,
  };
  for (const attempt of attempts) counts[attempt.outcome] += 1;
  return { attempts, counts, limitReached };
}
