import { randomUUID } from 'node:crypto';

/**
 * A version 7 UUID (RFC 9562): 48 bits of Unix milliseconds, then random bits. Job ids are
 * made in the process so the enqueue returns them without a round trip; time-ordered ids
 * land at the right edge of the primary-key index instead of on a random page of it, which
 * keeps inserts and the claim's updates on few, hot index pages (random v4 ids touch a
 * different leaf page for nearly every row once the table is large).
 */
export function uuidV7(now: number = Date.now()): string {
  if (now !== lastMs) {
    const time = now.toString(16).padStart(12, '0');
    lastPrefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
    lastMs = now;
  }
  // randomUUID() is v4: keep its random part and its variant bits, replace the first 48
  // bits with the time and the version nibble (index 14) with 7.
  return lastPrefix + randomUUID().slice(15);
}

/** The time part of the last id, reused within the same millisecond (bulk enqueues). */
let lastMs = -1;
let lastPrefix = '';
