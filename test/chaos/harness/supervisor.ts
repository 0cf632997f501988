import type { SelfKillPlan } from '../fixture/protocol.js';
import type { Incarnation, StartOptions, WorkerCluster } from './cluster.js';
import { random } from './size.js';

/**
 * Keeps a fixed set of workers running, like a process manager would: whenever an
 * incarnation exits while supervision is on, the worker is started again after a short
 * random delay. Each start may carry the next self-kill plan.
 */
export class Supervisor {
  private active = true;
  private readonly current = new Map<string, Incarnation>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly cluster: WorkerCluster,
    private readonly workers: readonly string[],
    private readonly nextPlan: () => SelfKillPlan | undefined = () => undefined,
    private readonly options: StartOptions = {},
  ) {
    for (const worker of workers) this.launch(worker);
  }

  /** The live incarnations that finished booting, are not frozen and are not being killed. */
  liveReady(): Incarnation[] {
    return [...this.current.values()].filter(
      (incarnation) =>
        incarnation.alive &&
        incarnation.signalSent !== 'SIGKILL' &&
        incarnation.readyAt !== null &&
        !incarnation.stopped,
    );
  }

  /** Waits until every worker's current incarnation is ready. */
  async allReady(): Promise<void> {
    await Promise.all([...this.current.values()].map((i) => i.ready));
  }

  /**
   * Ends supervision: no more restarts. Then every worker gets a plain incarnation (no
   * self-kill plan): one whose current incarnation still carries an unfired plan is
   * SIGKILLed first (its plan could fire at any time). Returns the final incarnations.
   */
  async settle(): Promise<Incarnation[]> {
    this.active = false;
    for (const timer of this.timers) clearTimeout(timer);
    const final: Incarnation[] = [];
    for (const worker of this.workers) {
      let incarnation = this.current.get(worker)!;
      if (incarnation.alive && incarnation.plan) incarnation.signal('SIGKILL');
      // Killed but maybe not reaped yet (a kill just before settle): wait for the exit.
      if (incarnation.signalSent === 'SIGKILL') await incarnation.exited;
      if (!incarnation.alive || incarnation.plan) {
        incarnation = this.cluster.start(worker, this.options);
        this.current.set(worker, incarnation);
      }
      final.push(incarnation);
    }
    await Promise.all(final.map((incarnation) => incarnation.ready));
    return final;
  }

  private launch(worker: string): void {
    const plan = this.nextPlan();
    const incarnation = this.cluster.start(worker, {
      ...this.options,
      ...(plan ? { selfKill: plan } : {}),
    });
    this.current.set(worker, incarnation);
    void incarnation.exited.then(() => {
      if (!this.active || this.cluster.closed) return;
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          if (this.active) this.launch(worker);
        },
        random(0, 400),
      );
      this.timers.add(timer);
    });
  }
}
