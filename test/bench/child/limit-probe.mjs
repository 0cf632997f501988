// The handler of the limits scenario (issue 22): records the call in the ledger, counts how
// many handlers of the run are inside at once (every worker of the run lives in this process,
// so the count is exact, not sampled), keeps each start's time, on this process' clock and, when
// the system says when it started the job (its own record of the claim), on that clock too, and
// holds the slot for `holdMs` like a call to a slow partner would.
import { ledger } from './ledger.mjs';

class LimitProbe {
  constructor() {
    this.reset(0);
  }

  /** Forgets everything recorded; each call will hold its slot for `holdMs`. */
  reset(holdMs) {
    this.holdMs = holdMs;
    this.inside = 0;
    this.maxInside = 0;
    /** Handler starts, epoch ms (performance.timeOrigin + now()). */
    this.starts = [];
    /** The system's own start times, epoch ms, when its handler is told them. */
    this.systemStarts = [];
  }

  /** The limits scenario's handler body; `systemStartMs`: the system's start time, if known. */
  async run(seq, systemStartMs) {
    this.inside += 1;
    if (this.inside > this.maxInside) this.maxInside = this.inside;
    this.starts.push(performance.timeOrigin + performance.now());
    if (systemStartMs != null) this.systemStarts.push(Number(systemStartMs));
    ledger.run(seq);
    try {
      if (this.holdMs > 0)
        await new Promise((resolve) => setTimeout(resolve, this.holdMs));
    } finally {
      this.inside -= 1;
    }
  }
}

export const limitProbe = new LimitProbe();
