import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  applicationNameOf,
  SELF_KILL_POINTS,
  type SelfKillPlan,
  type SelfKillPoint,
} from './fixture/protocol.js';
import type { RerunReason } from './harness/audit.js';
import type { Incarnation } from './harness/cluster.js';
import {
  CHAOS_WORKER,
  ChaosRun,
  expectCleanExits,
  expectSound,
  terminate,
} from './harness/chaos-run.js';
import {
  chaosScale,
  random,
  scaled,
  scaledTimeout,
  sleep,
} from './harness/size.js';
import { Supervisor } from './harness/supervisor.js';

/**
 * Chaos scenario 2: kill -9 under load. 4 supervised worker processes (restarted after
 * every death) work a queue kept at a backlog of 200-400 jobs of 5-100 ms while
 *  - every 250-800 ms the harness SIGKILLs a random live worker (random moments: handlers
 *    running, claims and completion writes in flight, whatever happens to be going on), or
 *    now and then freezes one (SIGSTOP) for longer than its lease and resumes it (SIGCONT):
 *    its jobs are rescued and run elsewhere while it sleeps, and whatever it writes when it
 *    wakes up must be fenced off;
 *  - restarted workers carry self-kill plans that SIGKILL the process at precise points
 *    (fixture/self-kill.ts): right after a claim was sent, right after a claim returned rows,
 *    inside a handler, before a completion batch is sent, right after it was sent.
 * The attempts in flight in a killed (or frozen) process are rescued when their lease
 * expires (3 s) and run again; nothing else may run twice, and every job completes
 * exactly once.
 */
describe('chaos 2: kill -9 of workers under load', () => {
  let run: ChaosRun;
  beforeAll(async () => {
    run = await ChaosRun.open('crash-recovery');
  }, 60_000);
  afterAll(() => run?.close(), 60_000);

  it(
    'loses nothing and completes each job once while workers are SIGKILLed and restarted',
    async () => {
      const minJobs = scaled(3_000);
      const maxJobs = minJobs * 4;
      const minExternalKills = Math.round(10 * Math.sqrt(chaosScale()));
      const perPoint = Math.max(1, Math.round(Math.sqrt(chaosScale())));
      const chaosDeadline = Date.now() + scaledTimeout(60_000);

      const fired = (point: SelfKillPoint) =>
        run.cluster.incarnations.filter(
          (i) => i.killed && i.selfKill?.point === point,
        ).length;
      const armed = (point: SelfKillPoint) =>
        run.cluster.incarnations.filter(
          (i) => i.alive && i.plan?.point === point,
        ).length;
      const nextPlan = (): SelfKillPlan | undefined => {
        const wanted = SELF_KILL_POINTS.filter(
          (point) => fired(point) + armed(point) < perPoint,
        ).sort((a, b) => fired(a) - fired(b));
        return wanted.length
          ? { point: wanted[0]!, afterJobs: random(10, 80) }
          : undefined;
      };

      const supervisor = new Supervisor(
        run.cluster,
        ['w1', 'w2', 'w3', 'w4'],
        nextPlan,
      );
      await supervisor.allReady();

      let externalKills = 0;
      const minFreezes = Math.max(2, Math.round(2 * Math.sqrt(chaosScale())));
      const thaws: Promise<void>[] = [];
      // A freeze counts once its victim's attempts were rescued while it slept (what the
      // audit calls lease-lost-frozen): a victim that happened to hold nothing proves nothing.
      let effectiveFreezes = 0;
      let freezesInProgress = 0;
      const freeze = async (victim: Incarnation) => {
        freezesInProgress += 1;
        try {
          const frozenAt = Date.now();
          await victim.freeze(CHAOS_WORKER.leaseMs + random(1_000, 2_000));
          if (await rescuedWhileFrozen(victim.id, frozenAt))
            effectiveFreezes += 1;
        } finally {
          freezesInProgress -= 1;
        }
      };
      const rescuedWhileFrozen = async (incarnation: string, since: number) => {
        const [row] = await run.db.query<{ rescued: boolean }>(
          `SELECT EXISTS (
             SELECT 1 FROM chaos_transitions claim
             JOIN chaos_transitions rescue
               ON rescue.job_id = claim.job_id AND rescue.attempts = claim.attempts
              AND rescue.releases = claim.releases AND rescue.seq > claim.seq
            WHERE claim.from_status = 'pending' AND claim.to_status = 'running'
              AND claim.app LIKE $1 AND rescue.from_status = 'running'
              AND rescue.last_error LIKE 'Lease expired while attempt%'
              AND rescue.at >= to_timestamp($2 / 1000.0)
          ) AS rescued`,
          [`${applicationNameOf(incarnation)} (%`, since],
        );
        return row!.rescued;
      };
      const chaosDone = () =>
        externalKills >= minExternalKills &&
        effectiveFreezes >= minFreezes &&
        SELF_KILL_POINTS.every((point) => fired(point) >= perPoint);

      // Producer: keeps a backlog while the chaos lasts (and at least minJobs in all).
      let produced = 0;
      const produce = async () => {
        while (
          run.active &&
          produced < maxJobs &&
          (produced < minJobs || !chaosDone())
        ) {
          const [row] = await run.db.query<{ n: string }>(
            `SELECT count(*) AS n FROM nest_jobs WHERE status = 'pending'`,
          );
          if (Number(row!.n) >= 300) {
            await sleep(30); // pacing, not waiting for an effect
            continue;
          }
          const count = Math.random() < 0.8 ? random(20, 100) : 1;
          await run.producer.enqueueWork(
            run.producer.workPayloads(count, 5, 100),
          );
          produced += count;
        }
      };
      const production = run.spawnTask(produce());

      while (!chaosDone()) {
        if (Date.now() > chaosDeadline) {
          throw new Error(
            `chaos not done in time: ${externalKills}/${minExternalKills} external kills, self-kills ${JSON.stringify(
              Object.fromEntries(SELF_KILL_POINTS.map((p) => [p, fired(p)])),
            )}, ${effectiveFreezes}/${minFreezes} freezes that cut work (${thaws.length} in all), ${produced} jobs produced`,
          );
        }
        await sleep(random(250, 800)); // the random moment of the next action
        // Plain workers only: an incarnation with a plan must get to fire it.
        const victims = supervisor.liveReady().filter((i) => !i.plan);
        if (supervisor.liveReady().length < 2 || victims.length === 0) continue;
        if (
          effectiveFreezes < minFreezes &&
          freezesInProgress === 0 &&
          Math.random() < 0.3
        ) {
          // Frozen past its lease, preferably while running jobs: they are rescued and run
          // elsewhere meanwhile. One freeze at a time, until enough of them cut work.
          const unfrozen = victims.filter((i) => !i.frozen);
          const busy = unfrozen.filter((i) => (i.status?.running ?? 0) > 0);
          const candidates = busy.length > 0 ? busy : unfrozen;
          if (candidates.length > 0) {
            thaws.push(freeze(candidates[random(0, candidates.length - 1)]!));
            continue;
          }
        }
        victims[random(0, victims.length - 1)]!.signal('SIGKILL');
        externalKills += 1;
      }
      await Promise.all(thaws);
      await production;
      const finals = await supervisor.settle();

      const result = await run.finish({}, scaledTimeout(60_000));
      const exits = await Promise.all(
        finals.map((worker) => terminate(worker, 20_000)),
      );

      const cluster = run.cluster.figures();
      const selfKillEffects: Record<
        string,
        Partial<Record<RerunReason, number>>
      > = {};
      for (const incarnation of run.cluster.incarnations) {
        if (!incarnation.killed || !incarnation.selfKill) continue;
        const effects = (selfKillEffects[incarnation.selfKill.point] ??= {});
        for (const [reason, n] of Object.entries(
          result.byIncarnation[incarnation.id] ?? {},
        ))
          effects[reason as RerunReason] =
            (effects[reason as RerunReason] ?? 0) + n!;
      }
      run.report({
        ...cluster,
        externalKills,
        ...result.figures,
        selfKillEffects,
        seconds: run.elapsedSeconds(),
      });

      expectSound(result);
      expect(result.figures.completed).toBe(produced);
      expect(externalKills).toBeGreaterThanOrEqual(minExternalKills);
      for (const point of SELF_KILL_POINTS)
        expect({ point, fired: fired(point) >= perPoint }).toEqual({
          point,
          fired: true,
        });
      // The kills really cut work in flight, at each precise point where that is certain.
      expect(result.figures.reExecutedJobs).toBeGreaterThan(0);
      expect(result.figures.rerunReasons['lease-lost-frozen']).toBeGreaterThan(
        0,
      );
      expect(
        selfKillEffects['in-handler']?.['killed-in-handler'],
      ).toBeGreaterThan(0);
      expect(
        selfKillEffects['claim-returned']?.['killed-after-claim'],
      ).toBeGreaterThan(0);
      expect(
        selfKillEffects['complete-before']?.[
          'killed-before-completion-written'
        ],
      ).toBeGreaterThan(0);
      expectCleanExits(exits);
    },
    scaledTimeout(150_000),
  );
});
