import type pg from 'pg';

/** pg's Client keeps its socket as `connection.stream` (pg-pool reads it the same way). */
interface ClientSocket {
  connection?: { stream?: { destroy(): void } };
}

/**
 * Closes `client`'s socket at once, without the protocol's goodbye: for a connection found
 * dead (a half-open one never answers). pg then reports the connection ended.
 */
export function destroyConnection(client: pg.Client): void {
  (client as unknown as ClientSocket).connection?.stream?.destroy();
}

/**
 * Ends `client` politely, and destroys its socket when the server has not acknowledged
 * within `timeoutMs`: on a half-open connection `client.end()` alone waits for ever (or for
 * the kernel's keepalive, hours by default), and so would the shutdown awaiting it.
 */
export async function endConnection(
  client: pg.Client,
  timeoutMs: number,
): Promise<void> {
  const ended = client.end().then(
    () => false,
    () => false,
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, timeoutMs, true);
  });
  const timedOut = await Promise.race([ended, late]);
  clearTimeout(timer);
  if (!timedOut) return;
  destroyConnection(client);
  await ended;
}
