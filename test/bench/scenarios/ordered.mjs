// Scenario "ordered" (issue 22, opt-in: --only ordered): ordered delivery per key beside a
// flood. One big key holds `orderedBigJobs` jobs and `orderedSmallKeys` small keys hold
// `orderedSmallJobs` each, all loaded before the worker starts (the big key first, so a FIFO
// would run it all before any small key). Jobs of one key must run one at a time in enqueue
// order, so one key runs at most one job at a time on any system; the figures are:
// - throughput: all jobs / drain time (keys run side by side);
// - fairness: when the last small key finished, measured from the first handler call, and
//   how many of the big key's jobs had run by then (a fair system runs the small keys
//   within a few rounds; an unfair one after the flood);
// - order: the handler calls of every key in enqueue order (seq order within a key).
// Systems opt in with `enqueueKeyed(seqs, key)` on their adapter (an ordered queue or a
// group with concurrency 1, or a fair queue without order: then `unorderedKeys`).
import { ledger } from '../child/ledger.mjs';
import { settledState, verifyExactlyOnce } from '../child/verify.mjs';
import { sleep } from '../lib/stats.mjs';

export async function run({ adapter, sizes }) {
  if (!adapter.enqueueKeyed)
    throw new Error('this system has no ordered mode in the benchmark');
  const big = sizes.orderedBigJobs;
  const keys = sizes.orderedSmallKeys;
  const perKey = sizes.orderedSmallJobs;
  const total = big + keys * perKey;
  await adapter.init();
  ledger.reset(total);
  // seq 0..big-1: the big key; then the small keys, each a contiguous range of seqs.
  const keyOf = (seq) =>
    seq < big ? 'big' : `small-${Math.floor((seq - big) / perKey)}`;
  for (let first = 0; first < big; first += 1_000)
    await adapter.enqueueKeyed(
      Array.from({ length: Math.min(1_000, big - first) }, (_, i) => first + i),
      'big',
    );
  for (let k = 0; k < keys; k += 1)
    await adapter.enqueueKeyed(
      Array.from({ length: perKey }, (_, i) => big + k * perKey + i),
      `small-${k}`,
    );
  await adapter.analyze();

  const runOrder = [];
  let smallLeft = keys * perKey;
  let smallDoneAt = Number.NaN;
  let bigBeforeSmallDone = 0;
  let bigRun = 0;
  ledger.onRun = (seq, now) => {
    runOrder.push(seq);
    if (seq < big) bigRun += 1;
    else if (--smallLeft === 0) {
      smallDoneAt = now;
      bigBeforeSmallDone = bigRun;
    }
  };
  await adapter.startWorker();
  const capAt = performance.now() + sizes.orderedCapSeconds * 1000;
  let finished = false;
  while (performance.now() < capAt) {
    if (ledger.handled >= total && (await adapter.remaining()) === 0) {
      finished = true;
      break;
    }
    await sleep(20);
  }
  // Finished: first to last handler call; capped: first handler call to the cap.
  const seconds =
    ((finished ? ledger.lastStart : performance.now()) - ledger.firstStart) /
    1000;
  await adapter.stopWorker();

  // Order: within each key, handler calls in ascending seq (the enqueue order); not for a
  // queue that is fair without order (adapter.unorderedKeys: nest-jobs' `fair: true`).
  const lastSeqOf = new Map();
  let outOfOrder = 0;
  for (const seq of adapter.unorderedKeys ? [] : runOrder) {
    const key = keyOf(seq);
    if ((lastSeqOf.get(key) ?? -1) > seq) outOfOrder += 1;
    lastSeqOf.set(key, seq);
  }
  const verify = verifyExactlyOnce(await settledState(adapter), {
    expected: total,
    mustFinish: finished,
  });
  if (outOfOrder > 0)
    verify.problems.push(`${outOfOrder} handler calls out of key order`);
  verify.ok = verify.ok && outOfOrder === 0;
  return {
    jobs: total,
    handled: ledger.handled,
    finished,
    seconds,
    rate: ledger.handled / seconds,
    smallKeysDoneMs: smallDoneAt - ledger.firstStart,
    bigJobsBeforeSmallDone: bigBeforeSmallDone,
    outOfOrder,
    verify,
  };
}
