import { describe, expect, it } from '@jest/globals';
import { NotificationListener } from '../../../packages/nest-jobs/src/notifications/notification-listener.js';
import { useJobsSuite } from '../../support/jobs-suite.js';
import { TcpProxy } from '../../support/tcp-proxy.js';

/** Client-side bounds of the listener's connection, as the worker sets them (short here). */
const BOUND_MS = 300;
/** Far beyond every bound above: a close still pending then waits for the network. */
const HANG_MS = 5_000;

/** Whether `promise` settles within `ms` (false: it was still pending). */
async function settlesWithin(promise: Promise<unknown>, ms: number) {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(resolve, ms, false);
  });
  const settled = await Promise.race([
    promise.then(
      () => true,
      () => true,
    ),
    late,
  ]);
  clearTimeout(timer);
  return settled;
}

describe('the LISTEN connection under a partition that drops packets', () => {
  const suite = useJobsSuite('listener_partition');

  /** A listener through `proxy` with short client-side bounds, connecting. */
  function startListener(proxy: TcpProxy): NotificationListener {
    const listener = new NotificationListener(
      {
        connectionString: proxy.urlFor(suite.db.url),
        query_timeout: BOUND_MS,
        connectionTimeoutMillis: BOUND_MS,
      },
      'listener_partition',
      { onNotification: () => undefined, onConnected: () => undefined },
      // No reconnection and no probe within the test: only the first connect is exercised.
      { baseMs: 60_000, capMs: 60_000 },
      { probeIntervalMs: 60_000, closeTimeoutMs: BOUND_MS },
    );
    listener.start();
    return listener;
  }

  async function withProxy(test: (proxy: TcpProxy) => Promise<void>) {
    const proxy = await TcpProxy.start(suite.db.url);
    try {
      await test(proxy);
    } finally {
      // Only now may the server learn that the frozen connection is gone.
      await proxy.close();
    }
  }

  it('closes while its LISTEN goes unanswered', () =>
    withProxy(async (proxy) => {
      const listenLost = proxy.partitionWhenSent('LISTEN');
      const listener = startListener(proxy);
      await listenLost;
      // The close waits for the connect in progress, whose LISTEN times out.
      expect(await settlesWithin(listener.close(), HANG_MS)).toBe(true);
      expect(listener.listening).toBe(false);
    }));

  it('closes when its LISTEN is answered after the close began, without waiting for a goodbye that never comes', () =>
    withProxy(async (proxy) => {
      const listenAnswered = proxy.partitionWhenAnswered('LISTEN');
      const listener = startListener(proxy);
      await listenAnswered;
      // Closed before the client reads the answer: the connect then finds itself closed
      // and gives up a connection that can no longer reach the server.
      expect(await settlesWithin(listener.close(), HANG_MS)).toBe(true);
      expect(listener.listening).toBe(false);
    }));
});
