import type { DataSource, EntityManager } from 'typeorm';
import type { FinishedStatus } from '../enums/job-status.enum.js';
import {
  attemptKey,
  type AttemptRef,
  type ClaimedJobRow,
  type ExistingIds,
  type FailedAttempt,
  type NewJobRow,
  type RecoveredJob,
  type RequeuedAttempt,
} from './job-rows.js';
import {
  attemptArrays,
  hasOrderingKey,
  insertOrderedValues,
  insertManySharedValues,
  insertManyValues,
  insertOneDueNowValues,
  insertOneValues,
  insertFullSharedValues,
  insertFullValues,
  insertOneFullValues,
  isPlainDueNow,
  needsFullInsert,
  sharesAllButIdAndPayload,
  sharesAllButIdPayloadAndKey,
} from './insert-parameters.js';
import { fitsOneStatement, splitIntoStatements } from './insert-budget.js';
import { UNLIMITED_RETRIES_STORED } from '../retry/unlimited-retries.js';
import type { JobsTable } from './jobs-table.js';
import { buildJobsQueries, type JobsQueries } from './jobs.queries.js';
import type { TableState } from './migrations/schema-version.js';
import type { NamedStatement } from './queries/named-statement.js';
import type { TableAccess } from './migrations/table-access.js';
import { SqlRunner, type PgPool, type SqlExecutor } from './sql-runner.js';
import { StatementNames } from './statement-names.js';
import { uniqueIndexName } from './unique-index.js';
import { orderUniqueRows } from './unique-rows.js';
import { INSTANCE_NAME } from '../utils/instance-name.js';
import { JobsClock } from '../clock/jobs-clock.js';
import type { KeyWeights } from '../queues/queue-policies.options.js';
import { walkKeys } from './key-walks.js';

/** What a heartbeat found of the attempts it was given, by `attemptKey`. */
export interface HeartbeatResult {
  readonly renewed: ReadonlySet<string>;
  readonly cancelled: ReadonlySet<string>;
  /**
   * Still held, but not renewed: the row is locked by a transaction (a handler's that
   * completed or checkpointed its job), which the heartbeat does not wait for.
   */
  readonly busy: ReadonlySet<string>;
}

// The worker, maintenance and tests import the row types and PgPool with the repository;
// new code imports them from where they live.

/**
 * How long after a pooled unique insert met a key already held the following ones go out
 * with ON CONFLICT at once (see JobsRepository#insertFull): a producer whose keys are
 * often taken pays at most one refused statement per this period.
 */
const CONFLICT_PAUSE_MS = 10_000;

/**
 * How many times an ordered claim is sent when another claim took a job of one of its keys
 * meanwhile (each later one sees that job running); then the error goes to the scheduler.
 */
const ORDERED_CLAIM_ATTEMPTS = 3;

/** How an ordered queue's claim walks its keys (see claimOrdered). */
export interface OrderedClaim {
  /** Whether a job failed for good holds its key. */
  readonly blockOnFailure: boolean;
  /** The key to start after ('': the first), for round robin across claims. */
  readonly afterKey: string;
}

/** A rate: at most `limit` starts in any window of `periodMs`. */
export interface StartRate {
  readonly limit: number;
  readonly periodMs: number;
}

/** The cluster-wide limits a claim of one queue obeys (see claimCapped). */
export interface QueueLimits {
  /** Most running jobs of the queue. */
  readonly cap?: number;
  /** Most claims of the queue per period. */
  readonly rate?: StartRate;
  /** Most claims of one key per period (keyed and ordered queues). */
  readonly keyRate?: StartRate;
  /** Told, when a rate allows no claim now, in how many ms it allows one again. */
  readonly onRateLimited?: (reopensInMs: number) => void;
}

/** How a keyed queue's claim walks its keys (see claimKeyLimited). */
export interface KeyLimitedClaim {
  /** Most running jobs of one key (undefined: no limit). */
  readonly perKey: number | undefined;
  /** The key to start after ('': the first), for round robin across claims. */
  readonly afterKey: string;
  /** The keys' weights (`fair: { weights }`; undefined: every key weighs 1). */
  readonly weights?: KeyWeights;
  /**
   * Filled with the rows of the claim's last walk that claimed any: with weights, where the
   * claim's round stopped (its walks all start at `afterKey`), so the next claim goes on
   * from there instead of giving the first keys after `afterKey` every partial round.
   */
  readonly lastWalk?: { rows: readonly ClaimedJobRow[] };
}

/** $1..$8 of claimOrdered; `rated`: the queue or its keys are rate limited. */
function orderedClaimValues(
  queue: string,
  limit: number,
  leaseMs: number,
  { blockOnFailure, afterKey }: OrderedClaim,
  keyRate?: StartRate,
  rated = false,
): unknown[] {
  return [
    queue,
    limit,
    leaseMs,
    blockOnFailure,
    afterKey,
    keyRate?.limit ?? null,
    keyRate?.periodMs ?? null,
    rated,
  ];
}

/**
 * $1..$9 of claimKeyLimited; `share`: jobs one key may take (null: its room); `rated`: the
 * queue or its keys are rate limited.
 */
function keyLimitedClaimValues(
  queue: string,
  limit: number,
  leaseMs: number,
  { perKey, afterKey, weights }: KeyLimitedClaim,
  keyRate: StartRate | undefined,
  share: number | null,
  rated = false,
): unknown[] {
  const values: unknown[] = [
    queue,
    limit,
    leaseMs,
    perKey ?? null,
    afterKey,
    keyRate?.limit ?? null,
    keyRate?.periodMs ?? null,
    share,
    rated,
  ];
  // claimKeyWeighted's $10 and $11.
  if (weights) values.push(weights.json, weights.defaultWeight);
  return values;
}

/** A row returned by insertFull. */
interface UniqueInsertRow {
  id: string;
  uniqueKey: string | null;
  duplicate: boolean;
}

/**
 * The run-time face of the jobs table: each method picks its statement (./queries), builds
 * its parameters (./insert-parameters.ts) and sends it through the SqlRunner. Transactional
 * inserts go through the caller's EntityManager so they join its transaction.
 */
export class JobsRepository {
  readonly queries: JobsQueries;
  /** Where this repository's statements go. */
  readonly sql: SqlRunner;
  /** When a pooled unique insert last met a key already held (Date.now()). */
  private conflictSeenAt = Number.NEGATIVE_INFINITY;

  constructor(
    dataSource: DataSource,
    readonly jobsTable: JobsTable,
    /** Whether statements are sent named on this route (see StatementNames). */
    names: StatementNames = new StatementNames('auto'),
    /** Where statements go; by default the DataSource's own pool. */
    ownPool?: PgPool,
    /** Client-side bound of each pooled statement (see SqlRunner); none by default. */
    timeoutMs?: number,
    /** The time statements work by (see JobsClock). */
    clock: JobsClock = new JobsClock(),
  ) {
    this.queries = buildJobsQueries(jobsTable);
    this.sql = new SqlRunner(dataSource, names, ownPool, timeoutMs, clock);
  }

  /**
   * The same statements, sent through `pool` (the worker's own connections, which bound
   * their statements themselves); with `names` when that pool takes another route to the
   * server than this repository's.
   */
  through(pool: PgPool, names = this.sql.names): JobsRepository {
    return new JobsRepository(
      this.sql.dataSource,
      this.jobsTable,
      names,
      pool,
      undefined,
      this.sql.clock,
    );
  }

  /**
   * Inserts rows, all or none; with `manager`, inside its transaction and with a NOTIFY
   * delivered at commit. Rows that fit one statement (STATEMENT_BUDGET) go out as one, in
   * no explicit transaction; more are sent as several statements in one transaction: the
   * caller's when `manager` is in one, else one opened here on a pooled connection.
   * Returns the existing ids of rows that were duplicates of a unique job (see ExistingIds).
   */
  async insert(
    rows: readonly NewJobRow[],
    manager?: EntityManager,
  ): Promise<ExistingIds> {
    if (rows.length === 0) return undefined;
    if (hasOrderingKey(rows)) {
      await this.insertOrdered(rows, manager);
      return undefined;
    }
    if (needsFullInsert(rows)) return this.insertFull(rows, manager);
    if (rows.length > 1 && !fitsOneStatement(rows)) {
      await this.insertInSeveralStatements(rows, manager);
      return undefined;
    }
    const only = rows[0]!;
    // The due-now insert takes run_at from the column default, the database's real time:
    // not while a test's clock is pinned.
    if (
      rows.length === 1 &&
      !manager &&
      isPlainDueNow(only) &&
      !this.sql.clock.isPinned
    ) {
      await this.sql.run(
        this.queries.insertOneDueNow,
        insertOneDueNowValues(only),
      );
      return undefined;
    }
    const [statement, values] = this.insertStatement(rows, !!manager);
    if (manager) await this.sql.runOn(manager, statement, values);
    else await this.sql.run(statement, values);
    return undefined;
  }

  /**
   * Rows of which some are unique or have a priority (insertFull): a key given twice in
   * `rows` is inserted once, and its later rows are duplicates of the first; keys go out in
   * one order (see orderUniqueRows).
   */
  private async insertFull(
    rows: readonly NewJobRow[],
    manager: EntityManager | undefined,
  ): Promise<ExistingIds> {
    const { sent, duplicateOf, indexOfKey } = orderUniqueRows(rows);
    const existing: (string | undefined)[] = new Array(rows.length);
    const record = (returned: readonly UniqueInsertRow[]) => {
      for (const row of returned) {
        if (row.duplicate) existing[indexOfKey(row.uniqueKey!)] = row.id;
      }
    };
    const notifying = manager !== undefined;
    if (!notifying && (await this.insertFresh(sent))) {
      duplicateOf?.forEach((first, i) => {
        existing[i] = rows[first!]!.id;
      });
      return existing;
    }
    const insertRuns = async (executor: SqlExecutor | undefined) => {
      for (const run of splitIntoStatements(sent)) {
        const [statement, values] = this.fullStatement(run, notifying);
        record(
          executor
            ? await this.sql.runOn(executor, statement, values)
            : (await this.sql.run(statement, values)).rows,
        );
      }
    };
    if (fitsOneStatement(sent)) await insertRuns(manager);
    else if (manager?.queryRunner?.isTransactionActive)
      await insertRuns(manager);
    else await this.sql.transaction(insertRuns);
    duplicateOf?.forEach((first, i) => {
      existing[i] = existing[first!] ?? rows[first!]!.id;
    });
    return existing;
  }

  /**
   * Pooled rows of one statement whose keys are expected to be free (none refused lately),
   * or that carry no key: sent without ON CONFLICT (insertOneFullFresh, insertFullSharedFresh).
   * True when they were inserted; false when the statement does not fit these forms, or
   * a key was already held: then nothing was written (the statement was refused whole), and
   * the caller sends the rows again with ON CONFLICT, which finds the existing jobs.
   */
  private async insertFresh(rows: readonly NewJobRow[]): Promise<boolean> {
    const keyed = rows.some((row) => row.uniqueKey !== null);
    if (
      (keyed && Date.now() - this.conflictSeenAt < CONFLICT_PAUSE_MS) ||
      !fitsOneStatement(rows) ||
      // Only insertFull's arrays carry binary payloads.
      rows.some((row) => row.payloadBytes)
    )
      return false;
    const q = this.queries;
    const [statement, values] =
      rows.length === 1
        ? [q.insertOneFullFresh, insertOneFullValues(rows[0]!)]
        : sharesAllButIdPayloadAndKey(rows)
          ? [q.insertFullSharedFresh, insertFullSharedValues(rows)]
          : [null, null];
    if (!statement) return false;
    try {
      await this.sql.run(statement, values);
      return true;
    } catch (error) {
      const { code, constraint } = (error ?? {}) as {
        code?: unknown;
        constraint?: unknown;
      };
      if (code !== '23505' || constraint !== uniqueIndexName(this.jobsTable))
        throw error;
      this.conflictSeenAt = Date.now();
      return false;
    }
  }

  /**
   * The unique/priority insert for `rows`: one row in plain parameters (pooled only), rows
   * that share their options in the shared form, others in one array per column.
   */
  private fullStatement(
    rows: readonly NewJobRow[],
    notifying: boolean,
  ): [NamedStatement, unknown[]] {
    const q = this.queries;
    if (rows.length === 1 && !notifying && !rows[0]!.payloadBytes)
      return [q.insertOneFull, insertOneFullValues(rows[0]!)];
    const [statement, notifyingStatement, values] = sharesAllButIdPayloadAndKey(
      rows,
    )
      ? [
          q.insertFullShared,
          q.insertFullSharedAndNotify,
          insertFullSharedValues(rows),
        ]
      : [q.insertFull, q.insertFullAndNotify, insertFullValues(rows)];
    return notifying
      ? [notifyingStatement, [...values, this.jobsTable.channel]]
      : [statement, values];
  }

  /**
   * Rows of ordered queues (ordering keys are never unique, see prepareJob): each keyed row
   * takes its place in its key's order in the statement, in the order of `rows`.
   */
  private async insertOrdered(
    rows: readonly NewJobRow[],
    manager: EntityManager | undefined,
  ): Promise<void> {
    const notifying = manager !== undefined;
    const q = this.queries;
    const insertRun = (executor: SqlExecutor | undefined, run: NewJobRow[]) => {
      const values = insertOrderedValues(run);
      return executor
        ? this.sql.runOn(
            executor,
            notifying ? q.insertOrderedAndNotify : q.insertOrdered,
            notifying ? [...values, this.jobsTable.channel] : values,
          )
        : this.sql.run(q.insertOrdered, values);
    };
    if (fitsOneStatement(rows)) {
      await insertRun(manager, [...rows]);
      return;
    }
    const insertRuns = async (executor: SqlExecutor) => {
      for (const run of splitIntoStatements(rows))
        await insertRun(executor, run);
    };
    if (manager?.queryRunner?.isTransactionActive) await insertRuns(manager);
    else await this.sql.transaction(insertRuns);
  }

  private async insertInSeveralStatements(
    rows: readonly NewJobRow[],
    manager: EntityManager | undefined,
  ): Promise<void> {
    const notifying = manager !== undefined;
    const insertRuns = async (executor: SqlExecutor) => {
      // One after the other: a transaction's statements share one connection.
      for (const run of splitIntoStatements(rows)) {
        const [statement, values] = this.insertStatement(run, notifying);
        await this.sql.runOn(executor, statement, values);
      }
    };
    // A manager outside a transaction would commit each statement on its own.
    if (manager?.queryRunner?.isTransactionActive) await insertRuns(manager);
    else await this.sql.transaction(insertRuns);
  }

  /**
   * The insert statement for `rows` and its parameters; `notifying`: the variant that also
   * sends the NOTIFY (delivered when the transaction commits).
   */
  private insertStatement(
    rows: readonly NewJobRow[],
    notifying: boolean,
  ): [NamedStatement, unknown[]] {
    const q = this.queries;
    const [statement, notifyingStatement, values] =
      rows.length === 1
        ? [q.insertOne, q.insertOneAndNotify, insertOneValues(rows[0]!)]
        : sharesAllButIdAndPayload(rows)
          ? [
              q.insertManyShared,
              q.insertManySharedAndNotify,
              insertManySharedValues(rows),
            ]
          : [q.insertMany, q.insertManyAndNotify, insertManyValues(rows)];
    return notifying
      ? [notifyingStatement, [...values, this.jobsTable.channel]]
      : [statement, values];
  }

  /** Claims up to `limit` due jobs of `queue`, leased for `leaseMs`. */
  async claim(
    queue: string,
    limit: number,
    leaseMs: number,
  ): Promise<ClaimedJobRow[]> {
    const result = await this.sql.run(this.queries.claim, [
      queue,
      limit,
      leaseMs,
      false,
    ]);
    // The statement names its columns as ClaimedJobRow does: the driver's row objects are
    // used as they are (one object per job, not two), with the queue they came from.
    const rows = result.rows as ClaimedJobRow[];
    for (const row of rows) {
      (row as { queue: string }).queue = queue;
      if (row.maxRetries === UNLIMITED_RETRIES_STORED)
        row.maxRetries = Number.POSITIVE_INFINITY;
    }
    return rows;
  }

  /**
   * Claims up to `limit` due jobs of the ordered `queue`, at most one per key, walking the
   * keys round robin from the first after `afterKey` (see claimOrdered).
   */
  claimOrdered(
    queue: string,
    limit: number,
    leaseMs: number,
    ordering: OrderedClaim,
  ): Promise<ClaimedJobRow[]> {
    return this.retryingKeyRaces(async () => {
      const result = await this.sql.run(
        this.queries.claimOrdered,
        orderedClaimValues(queue, limit, leaseMs, ordering),
      );
      return this.claimedRows(result.rows as ClaimedJobRow[], queue);
    });
  }

  /**
   * Claims from a keyed queue without limits (`fair`): one job per key first, keys walked
   * round robin from the first after `afterKey`; only when that left room (fewer keys with
   * due jobs than `limit`) a second walk gives the keys more. No lock: SKIP LOCKED suffices
   * when nothing is counted.
   */
  async claimFair(
    queue: string,
    limit: number,
    leaseMs: number,
    keys: KeyLimitedClaim,
  ): Promise<ClaimedJobRow[]> {
    const statement = keys.weights
      ? this.queries.claimKeyWeighted
      : this.queries.claimKeyLimited;
    const rows = await walkKeys(
      limit,
      keys.weights,
      async (n, share) =>
        (
          await this.sql.run(
            statement,
            keyLimitedClaimValues(queue, n, leaseMs, keys, undefined, share),
          )
        ).rows as ClaimedJobRow[],
      keys.lastWalk,
    );
    return this.claimedRows(rows, queue);
  }

  /**
   * Claims from a queue with cluster-wide limits: in one transaction, the queue's claim lock
   * (claims of the queue on every instance wait for each other), then, with a `cap`, its
   * running jobs counted, with a `rate` its starts of the period, then at most the room left
   * claimed: one job per key when `keys` orders them; for a keyed queue one job per key
   * with room first, and a second walk for the rest of the room only when fewer keys had
   * one (each key's running jobs and starts counted by the claim statement). Everything
   * after the lock sees every claim committed before: the limits are exact, and a job whose
   * worker died counts until its lease expired and it was rescued.
   */
  claimCapped(
    queue: string,
    limit: number,
    leaseMs: number,
    limits: QueueLimits,
    keys: OrderedClaim | KeyLimitedClaim | null,
  ): Promise<ClaimedJobRow[]> {
    const q = this.queries;
    const { cap, rate, keyRate } = limits;
    // Starts are kept as long as the longest period of the queue asks.
    const keepMs = Math.max(rate?.periodMs ?? 0, keyRate?.periodMs ?? 0);
    // Starts counted and recorded on the start clock (see startClock in the claim SQL).
    const rated = rate !== undefined || keyRate !== undefined;
    return this.retryingKeyRaces(async () => {
      let rows: ClaimedJobRow[] = [];
      // The reopening is computed on the transaction's clock, read when it began; the
      // worker's wake-up is armed later (the lock wait, the statements): it is told the
      // time left from now, not from then, or every wake-up would come that much late.
      const begunAt = Date.now();
      const wakeIn = (reopensInMs: number) =>
        limits.onRateLimited?.(
          Math.max(0, Math.ceil(reopensInMs - (Date.now() - begunAt))),
        );
      await this.sql.transaction(async (tx) => {
        await this.sql.runOn(tx, q.lockQueueClaims, [
          this.jobsTable.qualified,
          queue,
        ]);
        let room = limit;
        if (cap !== undefined) {
          const [{ running }] = await this.sql.runOn(tx, q.runningInQueue, [
            queue,
          ]);
          room = Math.min(room, cap - running);
        }
        // Starts of the period so far, and when its oldest leaves it (the whole period
        // from now when there is none: this claim's own starts are the oldest then).
        let started = 0;
        let reopensInMs = 0;
        if (room > 0 && rate) {
          const [window] = await this.sql.runOn(tx, q.startsInPeriod, [
            queue,
            rate.periodMs,
          ]);
          started = window.started;
          reopensInMs = window.reopensInMs ?? rate.periodMs;
          room = Math.min(room, rate.limit - started);
        }
        // The rate allows no more claims until the window reopens: no outcome or
        // notification says when, so the worker is told to claim again then.
        const rateSpent = (claimed: number) => {
          if (rate && started + claimed >= rate.limit) wakeIn(reopensInMs);
        };
        if (room <= 0) {
          rateSpent(0);
          return;
        }
        const claimOn = async (n: number, share: number | null) =>
          (keys === null
            ? await this.sql.runOn(tx, q.claim, [queue, n, leaseMs, rated])
            : 'perKey' in keys
              ? await this.sql.runOn(
                  tx,
                  keys.weights ? q.claimKeyWeighted : q.claimKeyLimited,
                  keyLimitedClaimValues(
                    queue,
                    n,
                    leaseMs,
                    keys,
                    keyRate,
                    share,
                    rated,
                  ),
                )
              : await this.sql.runOn(
                  tx,
                  q.claimOrdered,
                  orderedClaimValues(queue, n, leaseMs, keys, keyRate, rated),
                )) as ClaimedJobRow[];
        // Records starts before a later walk counts them.
        const record = async (claimed: readonly ClaimedJobRow[]) => {
          if ((rate || keyRate) && claimed.length > 0)
            await this.sql.runOn(tx, q.recordStarts, [
              queue,
              claimed.map((row) => row.orderingKey ?? null),
              keepMs,
            ]);
        };
        const keyed = keys !== null && 'perKey' in keys;
        if (keyed)
          rows = await walkKeys(
            room,
            keys.weights,
            async (n, share) => {
              const claimed = await claimOn(n, share);
              await record(claimed);
              return claimed;
            },
            keys.lastWalk,
          );
        else {
          rows = await claimOn(room, null);
          await record(rows);
        }
        rateSpent(rows.length);
        // A key whose window is spent while it has jobs waiting: claim again when it
        // reopens, not at the next poll.
        if (keyRate && keys !== null && rows.length < room) {
          const [{ reopensInMs: keyReopensInMs }] = await this.sql.runOn(
            tx,
            q.keyRateReopens,
            [queue, keyRate.limit, keyRate.periodMs, !keyed],
          );
          if (keyReopensInMs !== null) wakeIn(keyReopensInMs);
        }
      });
      return this.claimedRows(rows, queue);
    });
  }

  /**
   * Sends a claim again when another claim took a job of one of its keys meanwhile (the
   * unique index of running keys refused it whole; the next one sees that job running);
   * then the error goes to the scheduler.
   */
  private async retryingKeyRaces(
    claim: () => Promise<ClaimedJobRow[]>,
  ): Promise<ClaimedJobRow[]> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await claim();
      } catch (error) {
        const { code, constraint } = (error ?? {}) as {
          code?: unknown;
          constraint?: unknown;
        };
        if (
          code !== '23505' ||
          constraint !== this.jobsTable.keyRunningIndex ||
          attempt >= ORDERED_CLAIM_ATTEMPTS
        )
          throw error;
      }
    }
  }

  private claimedRows(rows: ClaimedJobRow[], queue: string): ClaimedJobRow[] {
    for (const row of rows) {
      (row as { queue: string }).queue = queue;
      if (row.maxRetries === UNLIMITED_RETRIES_STORED)
        row.maxRetries = Number.POSITIVE_INFINITY;
    }
    return rows;
  }

  /**
   * Returns how many attempts were completed (a stale attempt is skipped). With
   * `deleteRows` the completed rows are deleted instead of kept (no retention).
   */
  async complete(
    attempts: readonly AttemptRef[],
    deleteRows = false,
  ): Promise<number> {
    const statement = deleteRows
      ? this.queries.completeByDeleting
      : this.queries.complete;
    const result = await this.sql.run(statement, attemptArrays(attempts));
    return result.rowCount ?? 0;
  }

  /**
   * Records failed attempts (retried later, or failed for good) and appends them to the
   * attempt history, naming this process; returns how many still held their claim.
   */
  async fail(failures: readonly FailedAttempt[]): Promise<number> {
    const result = await this.sql.run(this.queries.fail, [
      ...attemptArrays(failures),
      failures.map((f) => f.error),
      failures.map((f) => f.retryInMs),
      INSTANCE_NAME,
    ]);
    return result.rowCount ?? 0;
  }

  /**
   * Returns attempts whose handler asked to run again (snooze, reschedule) to pending;
   * returns how many still held their claim.
   */
  async requeue(attempts: readonly RequeuedAttempt[]): Promise<number> {
    const result = await this.sql.run(this.queries.requeue, [
      ...attemptArrays(attempts),
      attempts.map((a) => a.runAt),
      attempts.map((a) => a.delayMs),
      attempts.map((a) => a.fresh),
    ]);
    return result.rowCount ?? 0;
  }

  /** Records the latest progress (`values`, JSON text) of running attempts; returns how many still held their claim. */
  async writeProgress(
    attempts: readonly AttemptRef[],
    values: readonly string[],
  ): Promise<number> {
    const result = await this.sql.run(this.queries.writeProgress, [
      ...attemptArrays(attempts),
      values,
    ]);
    return result.rowCount ?? 0;
  }

  /** Ends attempts whose handler cancelled its own job; returns how many still held their claim. */
  async cancelOwn(
    attempts: readonly AttemptRef[],
    reasons: readonly string[],
  ): Promise<number> {
    const result = await this.sql.run(this.queries.cancelOwn, [
      ...attemptArrays(attempts),
      reasons,
    ]);
    return result.rowCount ?? 0;
  }

  /**
   * Renews the leases; returns the `attemptKey`s of the attempts that still hold their claim
   * (`renewed`) and of those an operator cancelled meanwhile (`cancelled`).
   */
  async heartbeat(
    attempts: readonly AttemptRef[],
    leaseMs: number,
  ): Promise<HeartbeatResult> {
    const result = await this.sql.run(this.queries.heartbeat, [
      ...attemptArrays(attempts),
      leaseMs,
    ]);
    const renewed = new Set<string>();
    const cancelled = new Set<string>();
    const busy = new Set<string>();
    for (const row of result.rows) {
      const key = attemptKey({
        id: row.id,
        attempt: row.attempts,
        releases: row.releases,
      });
      (row.busy === true
        ? busy
        : row.cancelled === true
          ? cancelled
          : renewed
      ).add(key);
    }
    return { renewed, cancelled, busy };
  }

  /**
   * Completes `attempt` inside the transaction open on `executor` (deleting the row with
   * `deleteRow`); false when the attempt no longer holds its job.
   */
  async completeIn(
    executor: SqlExecutor,
    attempt: AttemptRef & { readonly latestProgressJson?: string },
    deleteRow: boolean,
  ): Promise<boolean> {
    const rows = deleteRow
      ? await this.sql.runOn(
          executor,
          this.queries.completeInTransactionByDeleting,
          attemptValues(attempt),
        )
      : await this.sql.runOn(executor, this.queries.completeInTransaction, [
          ...attemptValues(attempt),
          attempt.latestProgressJson ?? null,
        ]);
    return heldIn(rows);
  }

  /**
   * Stores `checkpointJson` on `attempt`'s row, inside `executor`'s transaction or on the
   * pool; `refund`: also gives the attempt's retry back. False when the attempt no longer
   * holds its job.
   */
  async saveCheckpoint(
    executor: SqlExecutor | undefined,
    attempt: AttemptRef,
    checkpointJson: string,
    refund: boolean,
  ): Promise<boolean> {
    const values = [...attemptValues(attempt), checkpointJson, refund];
    const statement = this.queries.saveCheckpoint;
    return heldIn(
      executor
        ? await this.sql.runOn(executor, statement, values)
        : (await this.sql.run(statement, values)).rows,
    );
  }

  /** Whether `attempt` still holds its job, by the committed row. */
  async attemptHeld(attempt: AttemptRef): Promise<boolean> {
    const result = await this.sql.run(
      this.queries.attemptHeld,
      attemptValues(attempt),
    );
    return heldIn(result.rows);
  }

  /** Bounds the rest of `executor`'s transaction: each statement and each idle wait, to `timeoutMs`. */
  async boundTransaction(
    executor: SqlExecutor,
    timeoutMs: number,
  ): Promise<void> {
    await this.sql.runOn(executor, this.queries.boundTransaction, [
      String(timeoutMs),
    ]);
  }

  /**
   * Leaves `executor`'s transaction able only to roll back (its attempt no longer holds the
   * job); the error PostgreSQL raises for it is expected and swallowed.
   */
  async abortTransaction(executor: SqlExecutor): Promise<void> {
    await this.sql
      .runOn(executor, this.queries.abortTransaction, [])
      .catch(() => undefined);
  }

  /**
   * Returns interrupted attempts to pending at once, with `reason` as their last error; the
   * interrupted attempts do not count (their job runs the same attempt number again).
   */
  async release(
    attempts: readonly AttemptRef[],
    reason: string,
  ): Promise<number> {
    const result = await this.sql.run(this.queries.release, [
      ...attemptArrays(attempts),
      reason,
    ]);
    return result.rowCount ?? 0;
  }

  /** Rescues up to `limit` running jobs whose lease expired. */
  async recoverExpired(limit: number): Promise<RecoveredJob[]> {
    const result = await this.sql.run(this.queries.recoverExpired, [limit]);
    return result.rows.map((row) => ({
      id: row.id,
      jobType: row.job_type,
      status: row.status,
      attempt: row.attempts,
    }));
  }

  /** Wakes the workers of `queues` (one notification per queue). */
  async notify(queues: readonly string[]): Promise<void> {
    await this.sql.run(this.queries.notify, [this.jobsTable.channel, queues]);
  }

  /** Deletes up to `limit` rows of `status` finished more than `ageMs` ago; returns how many. */
  async deleteFinished(
    status: FinishedStatus,
    ageMs: number,
    limit: number,
  ): Promise<number> {
    const result = await this.sql.run(this.queries.deleteFinished[status], [
      ageMs,
      limit,
    ]);
    return result.rowCount ?? 0;
  }

  /**
   * What start-up reads to know the table's schema version; on `executor` (a migration's
   * transaction) instead of the pool when given.
   */
  async tableState(executor?: SqlExecutor): Promise<TableState> {
    const { schema, table, qualified, finishedIndex } = this.jobsTable;
    const statement = this.queries.tableState;
    const values = [qualified, schema, table, `"${schema}"."${finishedIndex}"`];
    const [row] = executor
      ? await this.sql.runOn(executor, statement, values)
      : (await this.sql.run(statement, values)).rows;
    return {
      tableExists: row.table_exists === true,
      hasRetryPolicy: row.has_retry_policy === true,
      hasFinishedIndex: row.has_finished_index === true,
      comment: row.comment,
    };
  }

  /** What the role may do on the table's schema and table (start-up's privilege check). */
  async accessState(): Promise<TableAccess> {
    const { schema, table } = this.jobsTable;
    const [row] = (await this.sql.run(this.queries.access, [schema, table]))
      .rows;
    return {
      role: row.role,
      statementTimeout: row.statement_timeout,
      databaseCreate: row.database_create === true,
      schemaExists: row.schema_exists === true,
      schemaUsage: row.schema_usage === true,
      schemaCreate: row.schema_create === true,
      tableExists: row.table_exists === true,
      tableOwner: row.table_owner === true,
      tablePrivileges: row.table_privileges ?? [],
    };
  }

  /** Connections the pool statements go to may open (pg's default: 10). */
  poolSize(): number {
    return this.sql.pool().options?.max ?? 10;
  }
}

/** $1..$3 of the single-attempt statements. */
function attemptValues(attempt: AttemptRef): unknown[] {
  return [attempt.id, attempt.attempt, attempt.releases];
}

/** The `held` count of a fenced single-attempt statement's one row. */
function heldIn(rows: ReadonlyArray<{ held?: unknown }>): boolean {
  return rows[0]?.held === 1;
}
