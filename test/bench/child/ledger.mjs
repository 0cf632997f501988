// Records every handler execution by the job's sequence number (its payload `seq`), so a run
// can prove that each job ran exactly once, and keeps the timestamps latency figures need.
// Typed arrays: recording is a few stores, so the ledger costs every system the same tiny bit.

class Ledger {
  constructor() {
    this.reset(0);
  }

  /** Sizes the ledger for seqs 0..capacity-1 and forgets everything recorded. */
  reset(capacity) {
    this.capacity = capacity;
    this.runs = new Uint8Array(capacity);
    this.startedAt = new Float64Array(capacity);
    this.enqueuedAt = new Float64Array(capacity); // when the enqueue call began
    this.returnedAt = new Float64Array(capacity); // when the enqueue call returned
    this.handled = 0;
    this.duplicates = 0;
    this.outOfRange = 0;
    this.firstStart = Number.NaN;
    this.lastStart = Number.NaN;
    this.onRun = null;
  }

  /** Called by every system's no-op handler. */
  run(seq) {
    const now = performance.now();
    if (!(seq >= 0 && seq < this.capacity)) {
      this.outOfRange += 1;
      return;
    }
    if (this.runs[seq] === 0) {
      this.startedAt[seq] = now;
      this.handled += 1;
    } else {
      this.duplicates += 1;
    }
    if (this.runs[seq] < 255) this.runs[seq] += 1;
    if (Number.isNaN(this.firstStart)) this.firstStart = now;
    this.lastStart = now;
    if (this.onRun) this.onRun(seq, now);
  }

  /** Seqs whose handler ran, ascending. */
  handledSeqs() {
    const seqs = [];
    for (let seq = 0; seq < this.capacity; seq += 1)
      if (this.runs[seq] > 0) seqs.push(seq);
    return seqs;
  }
}

export const ledger = new Ledger();
