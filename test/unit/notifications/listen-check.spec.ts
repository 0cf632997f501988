import {
  afterEach,
  beforeEach,
  describe,
  expect,
  it,
  jest,
} from '@jest/globals';
import { ListenCheck } from '../../../packages/nest-jobs/src/notifications/listen-check.js';

/** A check whose notifications are kept, so a test decides which come back. */
function checked(timeoutMs: number, send?: () => Promise<void>) {
  const sent: string[] = [];
  let failures = 0;
  const check = new ListenCheck(
    async (payload) => {
      sent.push(payload);
      await send?.();
    },
    timeoutMs,
    () => (failures += 1),
  );
  return { check, sent, failures: () => failures };
}

/** Lets the send's promise settle (its rejection handler runs in a microtask). */
const settle = async () => {
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
};

describe('ListenCheck', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('passes when its own notification comes back, and sends it only once', () => {
    const { check, sent, failures } = checked(1_000);
    check.connected();
    check.connected();
    expect(sent).toHaveLength(1);
    expect(check.heard(sent[0]!)).toBe(true);
    jest.advanceTimersByTime(10_000);
    expect(failures()).toBe(0);
  });

  it('a connection that ends while its check waits says nothing: the next connection checks again', () => {
    const { check, sent, failures } = checked(1_000);
    check.connected();
    jest.advanceTimersByTime(500);
    check.disconnected();
    jest.advanceTimersByTime(10_000);
    expect(failures()).toBe(0);
    check.connected();
    expect(sent).toHaveLength(2);
    expect(check.heard(sent[1]!)).toBe(true);
    // Once passed, a later disconnection changes nothing.
    check.disconnected();
    check.connected();
    expect(sent).toHaveLength(2);
    jest.advanceTimersByTime(10_000);
    expect(failures()).toBe(0);
  });

  it('reports one failure when nothing comes back in time', async () => {
    const { check, failures } = checked(1_000);
    check.connected();
    await settle();
    jest.advanceTimersByTime(999);
    expect(failures()).toBe(0);
    jest.advanceTimersByTime(1);
    expect(failures()).toBe(1);
    check.connected();
    jest.advanceTimersByTime(10_000);
    expect(failures()).toBe(1);
  });

  it("times the wait from the send's answer: a statement held back by a busy pool is no failure", async () => {
    let answer!: () => void;
    const { check, sent, failures } = checked(
      1_000,
      () => new Promise<void>((resolve) => (answer = resolve)),
    );
    check.connected();
    jest.advanceTimersByTime(10_000);
    expect(failures()).toBe(0);
    answer();
    await settle();
    jest.advanceTimersByTime(999);
    expect(failures()).toBe(0);
    expect(check.heard(sent[0]!)).toBe(true);
    jest.advanceTimersByTime(10_000);
    expect(failures()).toBe(0);
  });

  it('never mistakes a queue name for its notification: the payload has a leading space', () => {
    const { check, sent } = checked(1_000);
    check.connected();
    expect(sent[0]!.startsWith(' ')).toBe(true);
    expect(check.heard('emails')).toBe(false);
    expect(check.heard(sent[0]!.trim())).toBe(false);
    check.stop();
  });

  it('checks again at the next connection when the notification could not be sent', async () => {
    let fail = true;
    const { check, sent, failures } = checked(1_000, async () => {
      if (fail) throw new Error('database down');
    });
    check.connected();
    await settle();
    jest.advanceTimersByTime(10_000);
    expect(failures()).toBe(0);
    fail = false;
    check.connected();
    expect(sent).toHaveLength(2);
    expect(check.heard(sent[1]!)).toBe(true);
  });

  it('stop() cancels a pending check', () => {
    const { check, failures } = checked(1_000);
    check.connected();
    check.stop();
    jest.advanceTimersByTime(10_000);
    expect(failures()).toBe(0);
  });
});
