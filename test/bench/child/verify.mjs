// The exactly-once check every scenario ends with, against the handler ledger and the rows the
// system left in its table (read after its worker stopped gracefully).
import { waitFor } from '../lib/stats.mjs';
import { ledger } from './ledger.mjs';

/**
 * The table as the system left it once its worker stopped. A stop may resolve while the last
 * completion write is still in flight (graphile-worker's does, by a few ms), so rows still
 * marked running get up to two seconds to settle before they count against the system.
 */
export async function settledState(adapter) {
  const handled = ledger.handledSeqs();
  const settled = await waitFor(
    async () => {
      const state = await adapter.finalState(handled);
      return state.running === 0 ? state : null;
    },
    { timeoutMs: 2_000, everyMs: 50 },
  );
  return settled ?? adapter.finalState(handled);
}

/**
 * @param state         adapter.finalState(handledSeqs)
 * @param expected      jobs enqueued with seq >= 0 in this run
 * @param mustFinish    true when every expected job should have run (an uncapped drain)
 * @returns { ok, handled, problems: string[] }
 */
export function verifyExactlyOnce(state, { expected, mustFinish }) {
  const problems = [];
  const handled = ledger.handledSeqs();
  if (ledger.duplicates > 0)
    problems.push(
      `${ledger.duplicates} handler execution(s) of a job that had already run`,
    );
  if (ledger.outOfRange > 0)
    problems.push(
      `${ledger.outOfRange} handler execution(s) of a job this run never enqueued`,
    );
  if (state.failed > 0) problems.push(`${state.failed} job(s) failed`);
  if (state.running > 0)
    problems.push(
      `${state.running} job(s) still marked running after the worker stopped`,
    );
  if (state.deletesDone) {
    if (state.handledLeft > 0) {
      problems.push(
        `${state.handledLeft} job(s) ran but are still in the table (completion never written: they would run again)`,
      );
    }
    if (state.present - state.handledLeft < expected - handled.length) {
      problems.push(
        `${expected - handled.length - (state.present - state.handledLeft)} job(s) vanished without running`,
      );
    }
  } else {
    const done = Int32Array.from(state.doneSeqs).sort();
    let mismatch = done.length !== handled.length;
    for (let i = 0; !mismatch && i < done.length; i += 1)
      mismatch = done[i] !== handled[i];
    if (mismatch)
      problems.push(
        `completed rows (${done.length}) differ from handler executions (${handled.length})`,
      );
    if (
      done.length + state.pending + state.running + state.failed !==
      expected
    ) {
      problems.push(
        `table holds ${done.length + state.pending + state.running + state.failed} jobs, expected ${expected}`,
      );
    }
  }
  if (mustFinish && handled.length !== expected)
    problems.push(`${expected - handled.length} job(s) never ran`);
  return { ok: problems.length === 0, handled: handled.length, problems };
}
