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
    forward(client, upstream, link);
    forward(upstream, client, link);
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
