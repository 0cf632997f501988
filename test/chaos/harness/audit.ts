import type { TestDatabase } from '../../support/test-database.js';
import { waitFor } from '../../support/wait-for.js';
import { incarnationOf, LEDGER_DDL } from '../fixture/protocol.js';

/**
 * The audit trail of a run, kept by the database itself:
 * - `chaos_ledger`: written by the handlers (a `start` and, on success, an `end` row per
 *   execution, with the attempt and the process incarnation);
 * - `chaos_transitions`: written by a trigger on the jobs table (test infrastructure, not
 *   part of the library) in the same transaction as each insert, delete and update (except
 *   lease renewals, which change only `locked_until`), with the `application_name` of the
 *   session that made it. Every claim, completion, failure, rescue and release is therefore
 *   recorded atomically with the change itself, whatever process made it and whenever it
 *   died; so is a write that changes nothing but should not have happened (a second
 *   completion of a completed job shows as `completed -> completed`).
 */
const TRANSITIONS_DDL = `
  CREATE TABLE chaos_transitions (
    seq bigserial PRIMARY KEY,
    job_id uuid NOT NULL,
    attempts integer NOT NULL,
    releases integer NOT NULL,
    from_status text,
    to_status text NOT NULL,
    last_error text,
    app text,
    at timestamptz NOT NULL DEFAULT clock_timestamp()
  );
  CREATE INDEX chaos_transitions_job ON chaos_transitions (job_id, seq);
  CREATE FUNCTION chaos_track() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'INSERT' THEN
      INSERT INTO chaos_transitions (job_id, attempts, releases, from_status, to_status, app)
      VALUES (NEW.id, NEW.attempts, NEW.releases, NULL, NEW.status, current_setting('application_name', true));
    ELSIF TG_OP = 'DELETE' THEN
      INSERT INTO chaos_transitions (job_id, attempts, releases, from_status, to_status, app)
      VALUES (OLD.id, OLD.attempts, OLD.releases, OLD.status, 'deleted', current_setting('application_name', true));
    ELSIF (NEW.status, NEW.attempts, NEW.releases, NEW.run_at, NEW.finished_at, NEW.last_error,
           NEW.queue, NEW.job_type, NEW.payload, NEW.max_retries)
          IS DISTINCT FROM
          (OLD.status, OLD.attempts, OLD.releases, OLD.run_at, OLD.finished_at, OLD.last_error,
           OLD.queue, OLD.job_type, OLD.payload, OLD.max_retries) THEN
      INSERT INTO chaos_transitions (job_id, attempts, releases, from_status, to_status, last_error, app)
      VALUES (NEW.id, NEW.attempts, NEW.releases, OLD.status, NEW.status,
              CASE WHEN OLD.status = 'running' THEN left(NEW.last_error, 500) END,
              current_setting('application_name', true));
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER chaos_track AFTER INSERT OR UPDATE OR DELETE ON nest_jobs
    FOR EACH ROW EXECUTE FUNCTION chaos_track();
`;

/** Creates the ledger and the transition trigger; the jobs table must exist already. */
export async function installAudit(db: TestDatabase): Promise<void> {
  await db.query(LEDGER_DDL);
  await db.query(TRANSITIONS_DDL);
}

/** What a job is expected to end as. */
export type ExpectedEnd = 'completed' | 'failed';

export interface ExpectedJob {
  id: string;
  kind: string;
  end: ExpectedEnd;
}

/** What the scenario allows as a reason for a job to run more than once. */
export interface AuditPolicy {
  /** Incarnations that died by SIGKILL: their in-flight attempts may run again. */
  killed: ReadonlySet<string>;
  /**
   * Incarnations that were frozen (SIGSTOP) past their lease, with the time they were
   * resumed (epoch ms): the attempts they had claimed by then may have been rescued.
   */
  frozen?: ReadonlyMap<string, number>;
  /** A `completed`-kind job may have failed attempts (e.g. its ledger write hit an outage). */
  failedAttemptsOfGoodJobs?: boolean;
  /** Attempts may be returned to pending by a graceful shutdown (SIGTERM). */
  releases?: boolean;
  /**
   * A claim may commit while its reply never reaches the worker (the connection died
   * after the commit): the worker never knew, so the lease expires with no execution.
   */
  lostClaimReplies?: boolean;
  /** `job.lease-lost` events of the workers, checked against what happened. */
  leaseLostWarnings?: ReadonlyArray<{
    incarnation: string;
    jobId: string;
    attempt: number;
  }>;
}

export const SHUTDOWN_RELEASE_MESSAGE = 'Worker is shutting down';
const LEASE_EXPIRED = 'Lease expired while attempt';

interface TransitionRow {
  seq: string;
  at_ms: number;
  job_id: string;
  attempts: number;
  releases: number;
  from_status: string | null;
  to_status: string;
  last_error: string | null;
  app: string | null;
}

interface LedgerRow {
  job_id: string;
  attempt: number;
  event: 'start' | 'end';
  incarnation: string;
}

/** One claim of a job: the attempt number it ran as, who claimed it, and when. */
interface Claim {
  attempt: number;
  by: string | null;
  at: number;
}

/** A claim's identity: a release at shutdown lets the next claim run the same attempt number. */
function claimKey(attempts: number, releases: number): string {
  return `${attempts}/${releases}`;
}

/** An execution's identity in the ledger (handlers know their attempt, not the releases). */
function executionKey(attempt: number, incarnation: string | null): string {
  return `${attempt}@${incarnation}`;
}

function splitExecution(execution: string): [number, string] {
  const at = execution.indexOf('@');
  return [Number(execution.slice(0, at)), execution.slice(at + 1)];
}

/** How an attempt other than the last one ended (why its job ran, or was claimed, again). */
export type RerunReason =
  /** Its process was SIGKILLed after the handler started; the lease expired. */
  | 'killed-in-handler'
  /** Claimed by a live process that never got the claim's reply (connection died after commit). */
  | 'claim-reply-lost'
  /** Its process was SIGKILLed after the handler finished, before the completion was written. */
  | 'killed-before-completion-written'
  /** Claimed by a process SIGKILLed before the handler started (e.g. right after the claim). */
  | 'killed-after-claim'
  /** The lease expired while its process was frozen (SIGSTOP) and then resumed. */
  | 'lease-lost-frozen'
  /** Returned to pending by a graceful shutdown. */
  | 'released-at-shutdown'
  /** The handler failed and the job was retried. */
  | 'failed-and-retried';

export interface AuditFigures {
  jobs: number;
  completed: number;
  failed: number;
  /** Expected jobs not completed or failed for good (or missing). */
  lost: number;
  /** Rows in the table that no committed enqueue produced. */
  phantoms: number;
  /** Jobs that reached `completed` more than once. */
  duplicateCompletions: number;
  /** Handler executions (ledger `start` rows). */
  executions: number;
  /** Jobs expected to complete that ran more than once. */
  reExecutedJobs: number;
  /** Attempts claimed but not the final one, by what ended them. */
  rerunReasons: Partial<Record<RerunReason, number>>;
  maxAttempts: number;
  /**
   * `job.lease-lost` events of the workers: `total`, and how many concern an attempt
   * whose outcome the same process wrote (completed, or failed/retried) and that no other
   * process ever rescued, i.e. warnings about leases that were not lost.
   */
  leaseLostWarnings: { total: number; outcomeWrittenBySameProcess: number };
}

export interface AuditResult {
  figures: AuditFigures;
  /** Rerun reasons per incarnation that had claimed the attempt. */
  byIncarnation: Record<string, Partial<Record<RerunReason, number>>>;
  /** Every broken invariant, one line each (empty when the run is sound). */
  violations: string[];
}

/** Waits until every expected job is completed or failed, or the deadline passes. */
export async function waitForTerminal(
  db: TestDatabase,
  expected: readonly ExpectedJob[],
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    `${expected.length} jobs to be completed or failed`,
    async () => {
      const [row] = await db.query<{ open: string; total: string }>(
        `SELECT count(*) FILTER (WHERE status NOT IN ('completed', 'failed')) AS open,
                count(*) AS total FROM nest_jobs`,
      );
      return Number(row!.open) === 0 && Number(row!.total) >= expected.length;
    },
    { timeoutMs, intervalMs: 200 },
  ).catch(() => undefined); // the audit reports what is still open
}

/**
 * Replays every job's transitions against the state machine of the design
 * (pending -> running -> completed | failed | pending), and checks the handlers' ledger
 * against them. Collects violations instead of stopping at the first.
 */
export async function audit(
  db: TestDatabase,
  expected: readonly ExpectedJob[],
  policy: AuditPolicy,
): Promise<AuditResult> {
  const violations: string[] = [];
  const violate = (job: string, message: string) => {
    if (violations.length < 50) violations.push(`job ${job}: ${message}`);
    else if (violations.length === 50) violations.push('... (more)');
  };
  const rows = await db.query<{
    id: string;
    status: string;
    attempts: number;
    releases: number;
  }>('SELECT id, status, attempts, releases FROM nest_jobs');
  const transitions = await db.query<TransitionRow>(
    `SELECT seq, job_id, attempts, releases, from_status, to_status, last_error, app,
            (extract(epoch FROM at) * 1000)::float8 AS at_ms
     FROM chaos_transitions ORDER BY seq`,
  );
  const ledger = await db.query<LedgerRow>(
    'SELECT job_id, attempt, event, incarnation FROM chaos_ledger ORDER BY id',
  );
  const byJob = <T extends { job_id: string }>(list: T[]) => {
    const map = new Map<string, T[]>();
    for (const item of list) {
      const entries = map.get(item.job_id) ?? [];
      entries.push(item);
      map.set(item.job_id, entries);
    }
    return map;
  };
  const transitionsOf = byJob(transitions);
  const ledgerOf = byJob(ledger);
  const rowOf = new Map(rows.map((row) => [row.id, row]));
  const expectedOf = new Map(expected.map((job) => [job.id, job]));

  const figures: AuditFigures = {
    jobs: expected.length,
    completed: 0,
    failed: 0,
    lost: 0,
    phantoms: 0,
    duplicateCompletions: 0,
    executions: ledger.filter((entry) => entry.event === 'start').length,
    reExecutedJobs: 0,
    rerunReasons: {},
    maxAttempts: 0,
    leaseLostWarnings: {
      total: policy.leaseLostWarnings?.length ?? 0,
      outcomeWrittenBySameProcess: 0,
    },
  };
  const warningsOf = new Map<
    string,
    Array<{ incarnation: string; attempt: number }>
  >();
  for (const warning of policy.leaseLostWarnings ?? [])
    warningsOf.set(warning.jobId, [
      ...(warningsOf.get(warning.jobId) ?? []),
      warning,
    ]);
  const byIncarnation: AuditResult['byIncarnation'] = {};
  const countReason = (reason: RerunReason, claimer: string | null) => {
    figures.rerunReasons[reason] = (figures.rerunReasons[reason] ?? 0) + 1;
    const mine = (byIncarnation[claimer ?? 'unknown'] ??= {});
    mine[reason] = (mine[reason] ?? 0) + 1;
  };

  for (const row of rows) {
    if (!expectedOf.has(row.id)) {
      figures.phantoms += 1;
      violate(
        row.id,
        `in the table (${row.status}) but no committed enqueue made it`,
      );
    }
  }
  for (const job of ledger) {
    if (!rowOf.has(job.job_id))
      violate(job.job_id, 'executed but not in the table');
  }

  for (const job of expected) {
    const row = rowOf.get(job.id);
    figures.maxAttempts = Math.max(figures.maxAttempts, row?.attempts ?? 0);
    if (!row || (row.status !== 'completed' && row.status !== 'failed')) {
      figures.lost += 1;
      violate(
        job.id,
        `lost: ${row ? `still ${row.status} after attempt ${row.attempts}` : 'no row'}`,
      );
      continue;
    }
    if (row.status === 'completed') figures.completed += 1;
    else figures.failed += 1;
    if (row.status !== job.end)
      violate(
        job.id,
        `${job.kind} job ended ${row.status}, expected ${job.end}`,
      );

    // Replay the transitions. A claim is identified by (attempts, releases): a release at
    // shutdown takes its attempt back (the next claim has the same number) and raises
    // releases. An execution is identified by (attempt, incarnation).
    const claims = new Map<string, Claim>();
    const endings = new Map<
      string,
      { to: string; lastError: string | null; by: string | null }
    >();
    let state: string | null = null;
    let attempts = 0;
    let releases = 0;
    let completions = 0;
    for (const t of transitionsOf.get(job.id) ?? []) {
      const edge = `${t.from_status ?? 'insert'} -> ${t.to_status}`;
      if (t.from_status !== state) {
        violate(job.id, `transition ${edge} while ${state ?? 'absent'}`);
      }
      if (t.to_status === 'completed') completions += 1;
      if (t.from_status === null) {
        if (t.to_status !== 'pending' || t.attempts !== 0 || t.releases !== 0)
          violate(
            job.id,
            `inserted as ${t.to_status} with attempts ${t.attempts}, releases ${t.releases}`,
          );
      } else if (t.from_status === 'pending' && t.to_status === 'running') {
        if (t.attempts !== attempts + 1 || t.releases !== releases)
          violate(
            job.id,
            `claimed as ${claimKey(t.attempts, t.releases)} after ${claimKey(attempts, releases)}`,
          );
        claims.set(claimKey(t.attempts, t.releases), {
          attempt: t.attempts,
          by: incarnationOf(t.app),
          at: t.at_ms,
        });
      } else if (
        t.from_status === 'running' &&
        ['completed', 'failed', 'pending'].includes(t.to_status)
      ) {
        const released =
          t.to_status === 'pending' &&
          (t.last_error ?? '').startsWith(SHUTDOWN_RELEASE_MESSAGE);
        // A release takes its attempt back and raises releases; every other end keeps both.
        const [expectedAttempts, expectedReleases] = released
          ? [attempts - 1, releases + 1]
          : [attempts, releases];
        if (t.attempts !== expectedAttempts || t.releases !== expectedReleases)
          violate(
            job.id,
            `${edge} changed ${claimKey(attempts, releases)} -> ${claimKey(t.attempts, t.releases)}`,
          );
        endings.set(claimKey(attempts, releases), {
          to: t.to_status,
          lastError: t.last_error,
          by: incarnationOf(t.app),
        });
      } else if (t.from_status === 'completed' || t.from_status === 'failed') {
        violate(
          job.id,
          `written after its final state: ${edge} (attempt ${t.attempts}, by ${incarnationOf(t.app) ?? t.app})`,
        );
      } else {
        violate(
          job.id,
          `invalid transition ${edge} (attempt ${t.attempts}, by ${incarnationOf(t.app) ?? t.app})`,
        );
        if (t.to_status === 'running' && t.attempts > attempts)
          claims.set(claimKey(t.attempts, t.releases), {
            attempt: t.attempts,
            by: incarnationOf(t.app),
            at: t.at_ms,
          });
      }
      state = t.to_status;
      attempts = t.attempts;
      releases = t.releases;
    }
    if (state !== row.status)
      violate(
        job.id,
        `transitions end in ${state}, the row says ${row.status}`,
      );
    if (completions > 1) figures.duplicateCompletions += 1;

    // Executions against claims and outcomes.
    const entries = ledgerOf.get(job.id) ?? [];
    const starts = new Map<string, number>();
    const ends = new Set<string>();
    for (const entry of entries) {
      const execution = executionKey(entry.attempt, entry.incarnation);
      if (entry.event === 'start')
        starts.set(execution, (starts.get(execution) ?? 0) + 1);
      else ends.add(execution);
    }
    const claimList = [...claims.values()];
    for (const [execution, count] of starts) {
      const [attempt, runner] = splitExecution(execution);
      if (count > 1)
        violate(
          job.id,
          `attempt ${attempt} executed ${count} times by ${runner}`,
        );
      if (claimList.some((c) => c.attempt === attempt && c.by === runner))
        continue;
      const claimers = claimList.filter((c) => c.attempt === attempt);
      if (claimers.length === 0)
        violate(
          job.id,
          `attempt ${attempt} executed by ${runner} without a claim`,
        );
      else
        violate(
          job.id,
          `attempt ${attempt} claimed by ${claimers.map((c) => c.by).join(', ')} but executed by ${runner}`,
        );
    }
    for (const execution of ends) {
      if (!starts.has(execution))
        violate(
          job.id,
          `attempt ${splitExecution(execution)[0]} ended without a start`,
        );
    }
    const finalKey = claimKey(row.attempts, row.releases);
    const finalClaim = claims.get(finalKey);
    if (row.status === 'completed') {
      const ending = endings.get(finalKey);
      if (!finalClaim || !ends.has(executionKey(row.attempts, finalClaim.by)))
        violate(
          job.id,
          `completed by attempt ${row.attempts}, whose handler never finished`,
        );
      if (ending && ending.by !== finalClaim?.by)
        violate(
          job.id,
          `attempt ${row.attempts} claimed by ${finalClaim?.by}, completed by ${ending.by}`,
        );
    }
    let executions = 0;
    for (const count of starts.values()) executions += count;
    if (job.end === 'completed' && executions > 1) figures.reExecutedJobs += 1;
    for (const warning of warningsOf.get(job.id) ?? []) {
      const key = [...claims].find(
        ([, c]) =>
          c.attempt === warning.attempt && c.by === warning.incarnation,
      )?.[0];
      const ending = key === undefined ? undefined : endings.get(key);
      if (
        ending &&
        ending.by === warning.incarnation &&
        !(ending.lastError ?? '').startsWith(LEASE_EXPIRED)
      )
        figures.leaseLostWarnings.outcomeWrittenBySameProcess += 1;
    }

    // Why did every earlier attempt not finish the job?
    for (const [key, claim] of claims) {
      if (key === finalKey) continue;
      const { attempt, by: claimer } = claim;
      const ending = endings.get(key);
      const killed = claimer !== null && policy.killed.has(claimer);
      const where = `attempt ${attempt} (claimed by ${claimer ?? 'unknown'})`;
      if (!ending) {
        violate(job.id, `${where} has no outcome`);
        continue;
      }
      const error = ending.lastError ?? '';
      // An earlier attempt that completed was claimed again: reported above as a write
      // after the final state.
      if (ending.to === 'completed') continue;
      const thawedAt =
        claimer === null ? undefined : policy.frozen?.get(claimer);
      const started = starts.has(executionKey(attempt, claimer));
      if (error.startsWith(LEASE_EXPIRED)) {
        if (thawedAt !== undefined && claim.at <= thawedAt) {
          // Claimed before the process woke up: the freeze outlived the lease.
          countReason('lease-lost-frozen', claimer);
        } else if (!killed && !started && policy.lostClaimReplies) {
          countReason('claim-reply-lost', claimer);
        } else if (killed) {
          countReason(
            ends.has(executionKey(attempt, claimer))
              ? 'killed-before-completion-written'
              : started
                ? 'killed-in-handler'
                : 'killed-after-claim',
            claimer,
          );
        } else {
          violate(
            job.id,
            `${where} was rescued after its lease expired, but its process was not killed`,
          );
        }
      } else if (error.startsWith(SHUTDOWN_RELEASE_MESSAGE)) {
        if (!policy.releases)
          violate(
            job.id,
            `${where} was released by a shutdown, unexpected here`,
          );
        else if (ending.by !== claimer)
          violate(job.id, `${where} was released by ${ending.by}`);
        else countReason('released-at-shutdown', claimer);
      } else {
        if (job.end === 'completed' && !policy.failedAttemptsOfGoodJobs)
          violate(job.id, `${where} failed: ${error.split('\n', 1)[0]}`);
        else countReason('failed-and-retried', claimer);
      }
    }
  }
  return { figures, byIncarnation, violations };
}
