import type { KeyWeights } from '../queues/queue-policies.options.js';
import type { ClaimedJobRow } from './job-rows.js';

/**
 * The walks of a keyed queue's claim of `room` jobs. `walk(n, share)` claims at most `n`,
 * each key at most `share` times its weight (null: up to its room). A first walk gives each
 * key one turn; when it left room, the keys it reached had fewer jobs than the claim asks
 * for. Without weights a second walk then gives them the rest, up to their room. With
 * weights the rest is split by weight first: each key that took a turn may take the turns
 * that fill the room if every such key took them (so a claim larger than the keys' turns
 * keeps their shares too), and only if keys ran out of jobs before that does a last walk
 * give the rest to those that have more.
 */
export async function walkKeys(
  room: number,
  weights: KeyWeights | undefined,
  walk: (n: number, share: number | null) => Promise<ClaimedJobRow[]>,
  /** Given the rows of the last walk that claimed any (see KeyLimitedClaim.lastWalk). */
  lastWalk?: { rows: readonly ClaimedJobRow[] },
): Promise<ClaimedJobRow[]> {
  const walked = async (n: number, share: number | null) => {
    const claimed = await walk(n, share);
    if (lastWalk && claimed.length > 0) lastWalk.rows = claimed;
    return claimed;
  };
  const rows = await walked(room, 1);
  if (rows.length === 0 || rows.length >= room) return rows;
  if (weights) {
    const keys = new Set(rows.map((row) => row.orderingKey ?? ''));
    let turn = 0;
    for (const key of keys)
      turn += weights.byKey.get(key) ?? weights.defaultWeight;
    const turns = Math.ceil((room - rows.length) / turn);
    const weighted = await walked(room - rows.length, turns);
    rows.push(...weighted);
    if (weighted.length === 0 || rows.length >= room) return rows;
  }
  rows.push(...(await walked(room - rows.length, null)));
  return rows;
}
