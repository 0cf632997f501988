import { spawn, type ChildProcess } from 'node:child_process';
import {
  createWriteStream,
  mkdirSync,
  rmSync,
  type WriteStream,
} from 'node:fs';
import { join } from 'node:path';
import type { JobsDatabaseOptions, JobsWorkerOptions } from 'nest-jobs';
import {
  ATTEMPT_CANCELLED_LINE,
  ENV,
  LEASE_LOST_LINE,
  READY_LINE,
  SELF_KILL_LINE,
  STATUS_LINE,
  type SelfKillPlan,
  type SelfKillPoint,
} from '../fixture/protocol.js';
import { compileFixture } from './compile-fixture.js';
import { RESULTS_DIR } from './report.js';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartOptions {
  worker?: JobsWorkerOptions;
  selfKill?: SelfKillPlan;
  poolMax?: number;
  /** The database the worker works on (default: the cluster's). */
  databaseUrl?: string;
  /** JobsModule's `database` options (e.g. `{ wakeUps: 'poll' }`: no LISTEN connection). */
  jobsDatabase?: JobsDatabaseOptions;
}

const TAIL_LINES = 60;
const LEASE_LOST = new RegExp(`^${LEASE_LOST_LINE} (\\S+) (\\d+)$`);
const ATTEMPT_CANCELLED = new RegExp(
  `^${ATTEMPT_CANCELLED_LINE} (\\S+) (\\d+) (\\S+)$`,
);
const STATUS = new RegExp(`^${STATUS_LINE} running=(\\d+) paused=(\\S*)$`);

/** One run of a worker process (a worker that is restarted gets a new incarnation). */
export class Incarnation {
  readonly pid: number;
  readonly ready: Promise<void>;
  readonly exited: Promise<ExitInfo>;
  exit: ExitInfo | null = null;
  /** When the process printed its ready line (worker started), or null. */
  readyAt: number | null = null;
  /** The harness sent this signal (the last one it sent). */
  signalSent: NodeJS.Signals | null = null;
  /** `job.lease-lost` events of the worker (heartbeats that found the row changed). */
  readonly leaseLostWarnings: Array<{ jobId: string; attempt: number }> = [];
  /** `job.attempt-cancelled` events of the worker. */
  readonly attemptsCancelled: Array<{
    jobId: string;
    attempt: number;
    by: string;
  }> = [];
  /** The worker's last reported status (STATUS_LINE), or null before the first. */
  status: { running: number; pausedQueues: string[] } | null = null;
  /** The self-kill line the process wrote before it SIGKILLed itself. */
  selfKill: { point: SelfKillPoint; line: string } | null = null;
  private readonly tail: string[] = [];

  constructor(
    readonly id: string,
    readonly worker: string,
    readonly plan: SelfKillPlan | null,
    private readonly child: ChildProcess,
    log: WriteStream,
  ) {
    this.pid = child.pid!;
    let markReady: () => void;
    let failReady: (error: Error) => void;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    this.ready.catch(() => undefined);
    const onLine = (line: string) => {
      log.write(`${line}\n`);
      this.tail.push(line);
      if (this.tail.length > TAIL_LINES) this.tail.shift();
      if (line.startsWith(READY_LINE)) {
        this.readyAt = Date.now();
        markReady();
      }
      const lost = LEASE_LOST.exec(line);
      if (lost)
        this.leaseLostWarnings.push({
          jobId: lost[1]!,
          attempt: Number(lost[2]),
        });
      const cancelled = ATTEMPT_CANCELLED.exec(line);
      if (cancelled)
        this.attemptsCancelled.push({
          jobId: cancelled[1]!,
          attempt: Number(cancelled[2]),
          by: cancelled[3]!,
        });
      const status = STATUS.exec(line);
      if (status)
        this.status = {
          running: Number(status[1]),
          pausedQueues: status[2] ? status[2].split(',') : [],
        };
      if (line.startsWith(SELF_KILL_LINE)) {
        const point = /point=(\S+)/.exec(line)?.[1] as SelfKillPoint;
        this.selfKill = { point, line };
      }
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        lines.forEach(onLine);
      });
      stream.on('end', () => buffered && onLine(buffered));
    }
    this.exited = new Promise((resolve) => {
      // 'close' (not 'exit'): stdout and stderr are fully read by then.
      child.on('close', (code, signal) => {
        this.exit = { code, signal };
        log.end();
        failReady(
          new Error(
            `${this.id} exited (code ${code}, signal ${signal}) before it was ready:\n${this.output()}`,
          ),
        );
        resolve(this.exit);
      });
    });
  }

  /** Was stopped (SIGSTOP) for a while and then resumed (SIGCONT). */
  frozen = false;
  /** Stopped right now. */
  stopped = false;
  /** When it was resumed after its freeze (epoch ms). */
  thawedAt: number | null = null;

  /**
   * Freezes the process for `ms` (like a long GC pause, a VM freeze or a partition): its
   * sockets stay open, its timers and handlers make no progress. Resolves once resumed.
   */
  async freeze(ms: number): Promise<void> {
    if (!this.alive) return;
    this.frozen = true;
    this.stopped = true;
    this.child.kill('SIGSTOP');
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.child.kill('SIGCONT');
    this.stopped = false;
    this.thawedAt = Date.now();
  }

  get alive(): boolean {
    return this.exit === null;
  }

  /** Died by SIGKILL (sent by the harness or by itself): its in-flight work was cut. */
  get killed(): boolean {
    return this.exit?.signal === 'SIGKILL';
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.alive) return;
    this.signalSent = signal;
    this.child.kill(signal);
  }

  /** The last lines the process printed, for failure messages. */
  output(): string {
    return this.tail.join('\n');
  }
}

/**
 * Worker processes of one scenario: starts (and restarts) them from the compiled fixture,
 * kills them, and keeps every incarnation for the audit. Each process is spawned with an
 * IPC channel; the fixture SIGKILLs itself when that channel closes, so no worker outlives
 * the test process even if jest is killed. `stopAll` (call it in afterAll) kills the rest.
 */
export class WorkerCluster {
  readonly incarnations: Incarnation[] = [];
  /** Set by stopAll: nothing may be started any more. */
  closed = false;
  private readonly starts = new Map<string, number>();
  private readonly logDir: string;
  private readonly fixture: string;

  constructor(
    readonly scenario: string,
    private readonly databaseUrl: string,
    private readonly defaults: StartOptions = {},
  ) {
    this.fixture = compileFixture();
    this.logDir = join(RESULTS_DIR, 'logs', scenario);
    rmSync(this.logDir, { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });
  }

  /** Starts an incarnation of `worker` (w1, w2, ...); does not wait for it to be ready. */
  start(worker: string, options: StartOptions = {}): Incarnation {
    if (this.closed)
      throw new Error(`the cluster of ${this.scenario} is closed`);
    const count = (this.starts.get(worker) ?? 0) + 1;
    this.starts.set(worker, count);
    const id = `${worker}#${count}`;
    const merged = { ...this.defaults, ...options };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NO_COLOR: '1',
      [ENV.databaseUrl]: merged.databaseUrl ?? this.databaseUrl,
      [ENV.incarnation]: id,
      [ENV.workerOptions]: JSON.stringify(merged.worker ?? {}),
      [ENV.poolMax]: String(merged.poolMax ?? 4),
      [ENV.jobsDatabase]: JSON.stringify(merged.jobsDatabase ?? {}),
    };
    if (options.selfKill) env[ENV.selfKill] = JSON.stringify(options.selfKill);
    else delete env[ENV.selfKill];
    const child = spawn(process.execPath, [this.fixture], {
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const log = createWriteStream(
      join(this.logDir, `${id.replace('#', '-')}.log`),
    );
    const incarnation = new Incarnation(
      id,
      worker,
      options.selfKill ?? null,
      child,
      log,
    );
    this.incarnations.push(incarnation);
    return incarnation;
  }

  /** Starts incarnations and waits until every one of them is ready. */
  async startReady(
    workers: string[],
    options: StartOptions = {},
  ): Promise<Incarnation[]> {
    const started = workers.map((worker) => this.start(worker, options));
    await Promise.all(started.map((incarnation) => incarnation.ready));
    return started;
  }

  live(): Incarnation[] {
    return this.incarnations.filter((incarnation) => incarnation.alive);
  }

  /** Every "Lost the lease" warning, with the incarnation that logged it. */
  leaseLostWarnings(): Array<{
    incarnation: string;
    jobId: string;
    attempt: number;
  }> {
    return this.incarnations.flatMap((i) =>
      i.leaseLostWarnings.map((w) => ({ incarnation: i.id, ...w })),
    );
  }

  /** Incarnations that were frozen, with the time they were resumed (epoch ms). */
  thawTimes(): Map<string, number> {
    return new Map(
      this.incarnations
        .filter((i) => i.thawedAt !== null)
        .map((i) => [i.id, i.thawedAt!]),
    );
  }

  /** Incarnations that died by SIGKILL: the only ones whose attempts may be re-run. */
  killedIds(): Set<string> {
    return new Set(this.incarnations.filter((i) => i.killed).map((i) => i.id));
  }

  /** SIGKILLs every live incarnation and waits until they are gone. Idempotent. */
  async stopAll(): Promise<void> {
    this.closed = true;
    const live = this.live();
    for (const incarnation of live) {
      incarnation.signal('SIGKILL');
      if (incarnation.stopped) incarnation.signal('SIGCONT');
    }
    await Promise.all(live.map((incarnation) => incarnation.exited));
  }

  /** Counts for the report. */
  figures() {
    const selfKills: Record<string, number> = {};
    for (const incarnation of this.incarnations) {
      if (incarnation.killed && incarnation.selfKill)
        selfKills[incarnation.selfKill.point] =
          (selfKills[incarnation.selfKill.point] ?? 0) + 1;
    }
    const workers = new Set(this.incarnations.map((i) => i.worker));
    return {
      workers: workers.size,
      processes: this.incarnations.length,
      restarts: this.incarnations.length - workers.size,
      sigkillsSent: this.incarnations.filter(
        (i) => i.killed && i.signalSent === 'SIGKILL' && !i.selfKill,
      ).length,
      selfKills,
      sigtermsSent: this.incarnations.filter((i) => i.signalSent === 'SIGTERM')
        .length,
      freezes: this.incarnations.filter((i) => i.frozen).length,
    };
  }
}
