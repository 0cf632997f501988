import { describe, expect, it } from '@jest/globals';
import { PeriodicTask } from '../../../packages/nest-jobs/src/maintenance/periodic-task.js';
import { waitFor } from '../../support/wait-for.js';

/** A task whose runs the test controls: each run waits for `release()` when `hold` is set. */
class Probe extends PeriodicTask<number> {
  runs = 0;
  concurrent = 0;
  maxConcurrent = 0;
  failNext = false;
  hold: Promise<void> | null = null;

  constructor(intervalMs: number) {
    super('probe', intervalMs);
  }

  protected async run(): Promise<number> {
    this.runs += 1;
    this.concurrent += 1;
    this.maxConcurrent = Math.max(this.maxConcurrent, this.concurrent);
    try {
      if (this.hold) await this.hold;
      if (this.failNext) {
        this.failNext = false;
        throw new Error('database down');
      }
      return this.runs;
    } finally {
      this.concurrent -= 1;
    }
  }
}

describe('PeriodicTask', () => {
  it('runs after the first delay, then every interval, and stops', async () => {
    const task = new Probe(10);
    task.start(0);
    await waitFor('three runs', () => task.runs >= 3);
    task.stop();
    const runs = task.runs;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(task.runs).toBe(runs);
  });

  it('never overlaps its runs: runNow joins the run in progress', async () => {
    const task = new Probe(5);
    let release!: () => void;
    task.hold = new Promise((resolve) => (release = resolve));
    const first = task.runNow();
    const second = task.runNow();
    expect(second).toBe(first);
    task.start(0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(task.maxConcurrent).toBe(1);
    release();
    await expect(first).resolves.toBe(1);
    task.stop();
  });

  it('a run that fails resolves undefined and the loop carries on', async () => {
    const task = new Probe(5);
    task.failNext = true;
    await expect(task.runNow()).resolves.toBeUndefined();
    task.start(0);
    await waitFor('a run after the failure', () => task.runs >= 2);
    task.stop();
  });

  it('does not start after stop', async () => {
    const task = new Probe(5);
    task.stop();
    task.start(0);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(task.runs).toBe(0);
  });
});
