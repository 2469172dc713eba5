/**
 * Test support for real-process network fault tests: a TCP proxy on every directed link between
 * the nodes of a testnet, so that the test can cut links the way a network partition would.
 *
 * There is one listener per ordered pair (from → to), forwarding to node `to`'s real P2P port;
 * node `from` is configured to dial it (`peersOf(from)`). The proxy therefore knows both ends of
 * every connection — one listener per node could not tell which node dialled it. The bytes are
 * forwarded untouched (the nodes' TLS runs end to end through the proxy).
 *
 * `isolate(i)` destroys every live connection to or from node i and refuses new ones (accepted,
 * then destroyed at once) until `heal(i)`.
 */
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";

interface Link {
  from: number;
  to: number;
  client: Socket;
  upstream: Socket;
}

export interface FaultProxyStats {
  /** Connections forwarded, per destination node. */
  forwarded: number[];
  /** Connections refused because an end was isolated, per destination node. */
  refused: number[];
}

export class FaultProxy {
  private readonly links = new Set<Link>();
  private readonly isolatedNodes = new Set<number>();
  readonly stats: FaultProxyStats;

  private constructor(
    private readonly host: string,
    private readonly targets: readonly number[],
    private readonly servers: Server[][],
    private readonly ports: number[][],
  ) {
    this.stats = { forwarded: targets.map(() => 0), refused: targets.map(() => 0) };
  }

  /** Starts a listener (on an ephemeral port) for every ordered pair of the nodes whose P2P ports are given. */
  static async start(targetPorts: readonly number[], host = "127.0.0.1"): Promise<FaultProxy> {
    const n = targetPorts.length;
    const servers: Server[][] = Array.from({ length: n }, () => []);
    const ports: number[][] = Array.from({ length: n }, () => Array<number>(n).fill(0));
    const proxy = new FaultProxy(host, targetPorts, servers, ports);
    for (let from = 0; from < n; from++)
      for (let to = 0; to < n; to++) {
        if (from === to) continue;
        const server = createServer((socket) => proxy.accept(from, to, socket));
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(0, host, () => {
            server.off("error", reject);
            resolve();
          });
        });
        const addr = server.address();
        if (addr === null || typeof addr === "string") throw new Error("proxy listener has no port");
        servers[from]![to] = server;
        ports[from]![to] = addr.port;
      }
    return proxy;
  }

  /** The address node `from` dials to reach node `to`. */
  address(from: number, to: number): string {
    const port = this.ports[from]?.[to];
    if (port === undefined || port === 0) throw new RangeError(`no link ${from} → ${to}`);
    return `${this.host}:${port}`;
  }

  /** Node i's `p2p.peers`: the proxies of its links to every other node. */
  peersOf(i: number): string[] {
    return this.targets.flatMap((_, to) => (to === i ? [] : [this.address(i, to)]));
  }

  /** Cuts node i off: its live connections are destroyed and new ones refused until `heal(i)`. */
  isolate(i: number): void {
    this.isolatedNodes.add(i);
    for (const l of [...this.links]) if (l.from === i || l.to === i) this.drop(l);
  }

  heal(i: number): void {
    this.isolatedNodes.delete(i);
  }

  isolated(i: number): boolean {
    return this.isolatedNodes.has(i);
  }

  /** Live forwarded connections touching node i (all of them without an argument). */
  connections(i?: number): number {
    let n = 0;
    for (const l of this.links) if (i === undefined || l.from === i || l.to === i) n++;
    return n;
  }

  async close(): Promise<void> {
    for (const l of [...this.links]) this.drop(l);
    await Promise.all(
      this.servers.flat().map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
    );
  }

  private accept(from: number, to: number, client: Socket): void {
    if (this.isolatedNodes.has(from) || this.isolatedNodes.has(to)) {
      this.stats.refused[to]!++;
      client.on("error", () => {});
      client.destroy();
      return;
    }
    this.stats.forwarded[to]!++;
    const upstream = tcpConnect({ host: this.host, port: this.targets[to]! });
    const link: Link = { from, to, client, upstream };
    this.links.add(link);
    // Consensus messages are small and latency-bound: no Nagle delay on either leg.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const end = () => this.drop(link);
    for (const s of [client, upstream]) {
      s.on("error", end);
      s.on("close", end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  private drop(l: Link): void {
    if (!this.links.delete(l)) return;
    l.client.destroy();
    l.upstream.destroy();
  }
}

/**
 * A base port b such that b .. b+count-1 are free on `host` now (below the usual ephemeral range,
 * so that outgoing connections do not take them meanwhile). Random, so that test files running in
 * parallel do not collide.
 */
export async function freePortBase(count: number, host = "127.0.0.1"): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (12_000 - count));
    const servers: Server[] = [];
    let ok = true;
    for (let p = base; p < base + count && ok; p++) {
      const s = createServer();
      ok = await new Promise<boolean>((resolve) => {
        s.once("error", () => resolve(false));
        s.listen(p, host, () => resolve(true));
      });
      if (ok) servers.push(s);
    }
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}
