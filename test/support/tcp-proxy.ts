import net from 'node:net';

/** One proxied connection: forwards while `open`, swallows everything once frozen. */
interface Link {
  readonly client: net.Socket;
  upstream: net.Socket | null;
  open: boolean;
}

/**
 * A TCP proxy on 127.0.0.1 in front of a PostgreSQL server, to play a network partition
 * that drops packets instead of closing connections (a dead switch, a firewall that
 * starts dropping). `partition()`: nothing goes through in either direction and no socket
 * is closed or reset; data, and a peer's FIN, are swallowed: every connection becomes
 * half-open. A connection made during the partition is accepted (the kernel answers the
 * handshake) and never reaches the server. `heal()`: new connections work again; those
 * frozen by the partition stay frozen, as the peers' state would have diverged. `close()`
 * destroys every socket, so the server drops the frozen backends.
 */
export class TcpProxy {
  private readonly links = new Set<Link>();
  private partitioned = false;
  /** The partition asked for by partitionWhenSent / partitionWhenAnswered, not yet set off. */
  private trigger: {
    direction: 'sent' | 'answered';
    marker: Buffer;
    resolve: () => void;
  } | null = null;

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
  ) {}

  /** Starts a proxy to the server of `databaseUrl`, on a free port of 127.0.0.1. */
  static async start(databaseUrl: string): Promise<TcpProxy> {
    const url = new URL(databaseUrl);
    const target = { host: url.hostname, port: Number(url.port || 5432) };
    let proxy: TcpProxy | undefined;
    // allowHalfOpen: a FIN from either side is not answered by the proxy's own kernel.
    const server = net.createServer({ allowHalfOpen: true }, (client) =>
      proxy!.accept(client),
    );
    proxy = new TcpProxy(server, target);
    await new Promise<void>((resolve) =>
      server.listen(0, '127.0.0.1', resolve),
    );
    return proxy;
  }

  /** `databaseUrl` with its host and port replaced by the proxy's. */
  urlFor(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String((this.server.address() as net.AddressInfo).port);
    return url.toString();
  }

  /** From now on nothing is forwarded, on the connections open now or made later. */
  partition(): void {
    this.partitioned = true;
    for (const link of this.links) link.open = false;
  }

  /**
   * Partitions the moment a client sends bytes holding `marker` (they never reach the
   * server): a statement is sent on a connection that was fine a moment before.
   */
  partitionWhenSent(marker: string): Promise<void> {
    return this.partitionOn('sent', marker);
  }

  /**
   * Partitions right after the server's bytes holding `marker` were passed on to the
   * client: the answer arrives, and whatever the client sends next is lost.
   */
  partitionWhenAnswered(marker: string): Promise<void> {
    return this.partitionOn('answered', marker);
  }

  private partitionOn(
    direction: 'sent' | 'answered',
    marker: string,
  ): Promise<void> {
    return new Promise((resolve) => {
      this.trigger = { direction, marker: Buffer.from(marker), resolve };
    });
  }

  /** Partitions when `chunk`, going `direction`, sets off the partition asked for. */
  private inspect(direction: 'sent' | 'answered', chunk: Buffer): void {
    const trigger = this.trigger;
    if (trigger?.direction !== direction || !chunk.includes(trigger.marker))
      return;
    this.trigger = null;
    this.partition();
    trigger.resolve();
  }

  /** New connections reach the server again; the frozen ones stay frozen. */
  heal(): void {
    this.partitioned = false;
  }

  /** Destroys every socket and stops listening. */
  async close(): Promise<void> {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream?.destroy();
    }
    this.links.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    const link: Link = { client, upstream: null, open: !this.partitioned };
    this.links.add(link);
    client.on('error', () => undefined);
    client.on('close', () => this.drop(link));
    if (!link.open) {
      client.resume(); // read and discard: the server never hears of it
      return;
    }
    const upstream = net.connect({ ...this.target, allowHalfOpen: true });
    link.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => this.drop(link));
    // Before the forwarding: a chunk that partitions is not passed on.
    client.on('data', (chunk: Buffer) => this.inspect('sent', chunk));
    forward(client, upstream, link);
    forward(upstream, client, link);
    // After the forwarding: the chunk went through, what follows does not.
    upstream.on('data', (chunk: Buffer) => this.inspect('answered', chunk));
  }

  /** A side closed while the link was open: close the other, as a real network would show. */
  private drop(link: Link): void {
    if (!link.open) return;
    link.open = false;
    link.client.destroy();
    link.upstream?.destroy();
    this.links.delete(link);
  }
}

function forward(from: net.Socket, to: net.Socket, link: Link): void {
  from.on('data', (chunk) => {
    if (link.open) to.write(chunk);
  });
  from.on('end', () => {
    if (link.open) to.end();
  });
}
