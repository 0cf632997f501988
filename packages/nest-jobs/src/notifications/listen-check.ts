import { randomUUID } from 'node:crypto';

/**
 * Checks once that the LISTEN connection hears notifications: when it is first up, sends a
 * notification addressed to itself and waits `timeoutMs` for it. Behind a transaction pooler
 * LISTEN succeeds and then never delivers anything (the pooler hands the server connection
 * that listens to other clients' transactions), so without this check a worker would wait
 * silently for the poll after every enqueue of another process.
 */
export class ListenCheck {
  /** Leading white space: no queue name can be equal to it (checkName refuses it). */
  private readonly payload = ` nest-jobs:listen-check ${randomUUID()}`;
  private state: 'waiting' | 'sent' | 'passed' | 'failed' | 'stopped' =
    'waiting';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    /** Sends a notification of `payload` on the jobs channel, through a pooled connection. */
    private readonly send: (payload: string) => Promise<void>,
    private readonly timeoutMs: number,
    /** Called once when the notification did not come back in time. */
    private readonly onFailed: () => void,
  ) {}

  /** The LISTEN connection is up: the first time (or after a send that failed), checks it. */
  connected(): void {
    if (this.state !== 'waiting') return;
    this.state = 'sent';
    // Timed from the send's answer (the notification committed), not from the request: a
    // busy pool may hold the statement back, and that says nothing of LISTEN either.
    this.send(this.payload).then(
      () => {
        if (this.state !== 'sent') return;
        this.timer = setTimeout(() => {
          if (this.state !== 'sent') return;
          this.state = 'failed';
          this.onFailed();
        }, this.timeoutMs);
      },
      () => {
        // A notification that could not be sent says nothing of LISTEN: the next
        // (re)connection checks again.
        if (this.state !== 'sent') return;
        this.state = 'waiting';
      },
    );
  }

  /**
   * The LISTEN connection ended: a check still waiting for its notification says nothing
   * of LISTEN (the notification went down with the connection), so the next connection
   * checks again instead of this one failing.
   */
  disconnected(): void {
    if (this.state !== 'sent') return;
    clearTimeout(this.timer);
    this.state = 'waiting';
  }

  /** Whether `payload` is the check's own notification (then it is not a queue's). */
  heard(payload: string): boolean {
    if (payload !== this.payload) return false;
    if (this.state === 'sent') {
      clearTimeout(this.timer);
      this.state = 'passed';
    }
    return true;
  }

  stop(): void {
    this.state = 'stopped';
    clearTimeout(this.timer);
  }
}
