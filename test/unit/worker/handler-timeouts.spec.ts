import {
  afterEach,
  beforeEach,
  describe,
  expect,
  it,
  jest,
} from '@jest/globals';
import {
  HandlerTimeouts,
  TimeoutEntry,
} from '../../../packages/nest-jobs/src/worker/handler-timeouts.js';

class Named extends TimeoutEntry {
  constructor(readonly name: string) {
    super();
  }
}

/** Fake timers (and a fake performance.now): deadlines are exact and nothing sleeps. */
function recorder() {
  const fired: [attempt: string, timeoutMs: number, at: number][] = [];
  const started = performance.now();
  const timeouts = new HandlerTimeouts<Named>((attempt, timeoutMs) =>
    fired.push([attempt.name, timeoutMs, performance.now() - started]),
  );
  const entries = new Map<string, Named>();
  const entry = (name: string) => {
    if (!entries.has(name)) entries.set(name, new Named(name));
    return entries.get(name)!;
  };
  return {
    fired,
    watch: (name: string, timeoutMs: number) =>
      timeouts.watch(entry(name), timeoutMs),
    clear: (name: string) => timeouts.clear(entry(name)),
    timeouts,
  };
}

describe('HandlerTimeouts', () => {
  beforeEach(() => {
    jest.useFakeTimers();
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('times out an attempt that is not cleared, at its deadline and not before', () => {
    const { fired, watch, clear, timeouts } = recorder();
    watch('a', 60);
    jest.advanceTimersByTime(59);
    expect(fired).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(fired).toEqual([['a', 60, 60]]);
    expect(timeouts.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('never times out a cleared attempt, and disarms its timer once none is left', () => {
    const { fired, watch, clear, timeouts } = recorder();
    watch('a', 40);
    watch('b', 40);
    // One timer for the timeout, not one per attempt.
    expect(jest.getTimerCount()).toBe(1);
    clear('a');
    expect(jest.getTimerCount()).toBe(1);
    clear('b');
    expect(timeouts.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(100);
    expect(fired).toEqual([]);
  });

  it('gives each attempt its own deadline: a later one is not timed out with the first', () => {
    const { fired, watch, clear, timeouts } = recorder();
    watch('first', 80);
    jest.advanceTimersByTime(50);
    watch('second', 80);
    clear('first');
    // The timer armed for `first` fires at 80 and must re-arm for `second` (due at 130).
    jest.advanceTimersByTime(40);
    expect(fired).toEqual([]);
    expect(jest.getTimerCount()).toBe(1);
    jest.advanceTimersByTime(40);
    expect(fired).toEqual([['second', 80, 130]]);
  });

  it('times out in start order, each timeout on its own timer', () => {
    const { fired, watch, clear, timeouts } = recorder();
    watch('slow', 120);
    watch('a', 30);
    jest.advanceTimersByTime(10);
    watch('b', 30);
    watch('kept', 30);
    clear('kept');
    expect(jest.getTimerCount()).toBe(2);
    jest.advanceTimersByTime(100);
    expect(fired).toEqual([
      ['a', 30, 30],
      ['b', 30, 40],
    ]);
    jest.advanceTimersByTime(10);
    expect(fired.map(([attempt, , at]) => [attempt, at])).toEqual([
      ['a', 30],
      ['b', 40],
      ['slow', 120],
    ]);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('unlinks an attempt from the middle, and ignores clearing one that is no longer watched', () => {
    const { fired, watch, clear, timeouts } = recorder();
    watch('a', 30);
    watch('b', 30);
    watch('c', 30);
    clear('b');
    clear('b');
    expect(timeouts.size).toBe(2);
    jest.advanceTimersByTime(30);
    expect(fired.map(([attempt]) => attempt)).toEqual(['a', 'c']);
    clear('a');
    expect(timeouts.size).toBe(0);
    watch('b', 30);
    jest.advanceTimersByTime(30);
    expect(fired.map(([attempt]) => attempt)).toEqual(['a', 'c', 'b']);
  });

  it('clearAll forgets every attempt and leaves no timer armed', () => {
    const { fired, watch, clear, timeouts } = recorder();
    watch('a', 30);
    watch('b', 50);
    expect(jest.getTimerCount()).toBe(2);
    timeouts.clearAll();
    expect(timeouts.size).toBe(0);
    expect(jest.getTimerCount()).toBe(0);
    jest.advanceTimersByTime(100);
    expect(fired).toEqual([]);
  });
});
