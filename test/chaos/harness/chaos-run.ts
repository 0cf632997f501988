import { expect } from '@jest/globals';
import {
  createTestDatabase,
  type TestDatabase,
} from '../../support/test-database.js';
import {
  audit,
  installAudit,
  waitForTerminal,
  type AuditPolicy,
  type AuditResult,
} from './audit.js';
import {
  WorkerCluster,
  type Incarnation,
  type StartOptions,
} from './cluster.js';
import { Producer } from './producer.js';
import { reportScenario, type Figures } from './report.js';

/** Worker options of the chaos runs: short leases and sweeps so rescues happen in seconds. */
export const CHAOS_WORKER = {
  concurrency: 10,
  leaseMs: 3_000,
  heartbeatIntervalMs: 400,
  recoveryIntervalMs: 500,
  pollIntervalMs: 250,
  shutdownTimeoutMs: 2_000,
} as const;

/**
 * One scenario's world: its own database on the run's server (or a given URL), the
 * producer (which creates the table), the audit trail, and the worker processes.
 * `close()` (afterAll) kills every worker, closes the producer and drops the database,
 * each step even if an earlier one failed.
 */
export class ChaosRun {
  readonly startedAt = Date.now();
  /** False once close() began: background loops must check it and stop. */
  active = true;
  private readonly tasks = new Set<Promise<unknown>>();

  private constructor(
    readonly scenario: string,
    readonly db: TestDatabase,
    readonly producer: Producer,
    readonly cluster: WorkerCluster,
    readonly serverVersion: string,
  ) {}

  static async open(
    scenario: string,
    {
      database,
      worker = CHAOS_WORKER,
    }: {
      database?: () => Promise<TestDatabase>;
      worker?: StartOptions['worker'];
    } = {},
  ): Promise<ChaosRun> {
    const db = await (
      database ?? (() => createTestDatabase(`chaos_${scenario}`))
    )();
    let producer: Producer | undefined;
    try {
      producer = await Producer.create(db.url);
      await installAudit(db);
      const [{ server_version }] = await db.query<{ server_version: string }>(
        'SHOW server_version',
      );
      const cluster = new WorkerCluster(scenario, db.url, { worker });
      return new ChaosRun(scenario, db, producer, cluster, server_version);
    } catch (error) {
      await producer?.close().catch(() => undefined);
      await db.drop().catch(() => undefined);
      throw error;
    }
  }

  /** Prints the scenario's summary line and writes its JSON (see report.ts). */
  report(figures: Figures): void {
    reportScenario(this.scenario, { postgres: this.serverVersion, ...figures });
  }

  /** Seconds since the run opened. */
  elapsedSeconds(): number {
    return Math.round((Date.now() - this.startedAt) / 100) / 10;
  }

  /** Waits (up to `timeoutMs`) for every expected job to end, then audits the run. */
  async finish(
    policy: Partial<AuditPolicy>,
    timeoutMs: number,
  ): Promise<AuditResult> {
    await waitForTerminal(this.db, this.producer.expected, timeoutMs);
    return audit(this.db, this.producer.expected, {
      killed: this.cluster.killedIds(),
      frozen: this.cluster.thawTimes(),
      leaseLostWarnings: this.cluster.leaseLostWarnings(),
      ...policy,
    });
  }

  /** Registers a background loop (it must stop when `active` turns false); close() awaits it. */
  spawnTask<T>(task: Promise<T>): Promise<T> {
    this.tasks.add(task.catch(() => undefined));
    return task;
  }

  async close(): Promise<void> {
    this.active = false;
    await Promise.all(this.tasks);
    const steps = [
      () => this.cluster.stopAll(),
      () => this.producer.close(),
      () => this.db.drop(),
    ];
    const errors: unknown[] = [];
    for (const step of steps) await step().catch((error) => errors.push(error));
    if (errors.length > 0) throw errors[0];
  }
}

/** Sends SIGTERM and waits (at most `boundMs`, a liveness bound) for the process to exit. */
export async function terminate(
  incarnation: Incarnation,
  boundMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number }> {
  if (!incarnation.alive)
    throw new Error(
      `${incarnation.id} had exited before the SIGTERM (${JSON.stringify(incarnation.exit)}):\n${incarnation.output()}`,
    );
  const sentAt = Date.now();
  incarnation.signal('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([
    incarnation.exited,
    new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), boundMs);
    }),
  ]);
  clearTimeout(timer);
  if (!exit) {
    throw new Error(
      `${incarnation.id} did not exit within ${boundMs} ms of SIGTERM:\n${incarnation.output()}`,
    );
  }
  return { ...exit, ms: Date.now() - sentAt };
}

/** Every process exited by itself with code 0 (not by a signal). */
export function expectCleanExits(
  exits: ReadonlyArray<{ code: number | null; signal: NodeJS.Signals | null }>,
): void {
  expect(exits.map(({ code, signal }) => ({ code, signal }))).toEqual(
    exits.map(() => ({ code: 0, signal: null })),
  );
}

/** The invariants every scenario must hold, with the violations in the failure message. */
export function expectSound(result: AuditResult): void {
  expect(result.violations).toEqual([]);
  expect(result.figures.lost).toBe(0);
  expect(result.figures.duplicateCompletions).toBe(0);
  expect(result.figures.phantoms).toBe(0);
  // A `job.lease-lost` event about an attempt whose outcome the same
  // process then wrote is a false alarm (it was, before the lease heartbeat's fix 3b42756).
  expect(result.figures.leaseLostWarnings.outcomeWrittenBySameProcess).toBe(0);
}
