/**
 * The consortium peer-to-peer transport (ADR 0015): mutually authenticated TLS 1.3 (RFC 8446)
 * with Ed25519 node keys, node certificates checked by us after the handshake against the
 * CURRENT member organizations' root keys, then a hello exchange on channel 0 binding the
 * connection to a chain (chainId, genesis hash) and a node id (the certificate's CN).
 *
 * Connection rules:
 * - one connection per peer node id; when both sides dial, the connection dialled by the
 *   smaller node id is kept (both sides compute the same answer, so nothing flaps);
 * - configured addresses are kept connected, redialled with exponential backoff (100 ms → 10 s,
 *   jittered), reset after a successful handshake;
 * - a peer whose outbound queue exceeds `maxQueueBytes`, that sends an oversized or malformed
 *   frame, or that breaks the protocol is dropped (and, for protocol faults, banned a while);
 * - `revalidate()` re-checks every peer certificate, so removing an organization disconnects
 *   its nodes, and they fail the certificate check when they come back.
 *
 * Wire: frames of frame.ts. Channel 0 carries deterministic CBOR: first the hello
 * `{v: 1, chainId, genesisHash, nodeId, height}`, then status `{height}` every second and
 * whenever the local height changes. Channels 1..255 are passed to `onMessage` untouched.
 */
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import * as tls from "node:tls";
import { type CborValue, decode, encode, equalBytes } from "../codec/cbor.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { InvalidInputError, ZlError } from "../errors/index.js";
import type { Logger } from "../log/logger.js";
import { DEFAULT_MAX_FRAME_BYTES, encodeFrame, type Frame, FrameDecoder } from "./frame.js";
import { tlsPublicKeyFromPem } from "./tls-key.js";
import { certificateFromPem, parseCertificate, verifyNodeCertificate } from "./x509.js";

export interface NetworkOptions {
  chainId: string;
  /** Peers with another genesis are refused. */
  genesisHash: Uint8Array;
  /** This node's id: the CN of its certificate. */
  nodeId: string;
  suite: CryptoSuite;
  /** Port 0 picks an ephemeral port; see `PeerNetwork.port`. */
  listen: { host: string; port: number };
  /** "host:port" addresses to dial and keep connected ("[v6]:port" for IPv6). */
  peers: string[];
  /** PKCS#8 PEM of this node's Ed25519 TLS key. */
  tlsKeyPem: string;
  /** This node's certificate (PEM). */
  certPem: string;
  /** Current member organizations: org id → root public key. Called at every check. */
  orgRoots: () => ReadonlyMap<string, Uint8Array>;
  /** Largest frame accepted from a peer (and sent); default 16 MiB. */
  maxFrameBytes?: number;
  /** Per-peer bound on pending outbound bytes; default 64 MiB. */
  maxQueueBytes?: number;
  /** TLS + hello must complete within this; default 5000 ms. */
  handshakeTimeoutMs?: number;
  log: Logger;
  /** Clock for certificate validity; default `new Date()`. */
  now?: () => Date;
}

export interface PeerInfo {
  nodeId: string;
  org: string;
  address: string;
  direction: "in" | "out";
  height: number;
}

export type MessageHandler = (from: PeerInfo, channel: number, payload: Uint8Array) => void;
export type PeerHandler = (event: "up" | "down", peer: PeerInfo) => void;

export const CONTROL_CHANNEL = 0;
export const DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
export const DEFAULT_BAN_MS = 60_000;
const HELLO_VERSION = 1;
const STATUS_INTERVAL_MS = 1_000;
/** A peer silent this long (it sends status every second) is considered gone. */
const IDLE_TIMEOUT_MS = 15_000;
const REVALIDATE_INTERVAL_MS = 60_000;
const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** A retired (duplicate) connection gets this long to flush before it is destroyed. */
const RETIRE_GRACE_MS = 2_000;
const MAX_CONTROL_BYTES = 4 * 1024;

type ConnState = "tls" | "hello" | "open" | "retired" | "closed";

interface Dialer {
  address: string;
  host: string;
  port: number;
  /** Learned from the certificate on the first connection to this address. */
  nodeId?: string;
  backoffMs: number;
  timer?: NodeJS.Timeout;
  conn?: Conn;
  /** The address turned out to be this node. */
  self: boolean;
}

interface Conn {
  id: number;
  socket: tls.TLSSocket;
  direction: "in" | "out";
  address: string;
  dialer?: Dialer;
  decoder: FrameDecoder;
  state: ConnState;
  timer?: NodeJS.Timeout;
  certDer?: Uint8Array;
  certNodeId?: string;
  org?: string;
  info?: PeerInfo;
  lastRecv: number;
}

/** Parses "host:port" or "[v6]:port". */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port < 1 || port > 65535)
    throw new InvalidInputError("P2P_BAD_ADDRESS", `peer address must be host:port, got "${address}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/** Not narrowed by the compiler: handlers called in between may close the connection. */
function isClosed(conn: Conn): boolean {
  return conn.state === "closed";
}

function codeOf(err: unknown): string {
  return err instanceof ZlError ? err.code : "P2P_PROTOCOL";
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class PeerNetwork {
  private readonly log: Logger;
  private readonly now: () => Date;
  private readonly maxFrameBytes: number;
  private readonly maxQueueBytes: number;
  private readonly handshakeTimeoutMs: number;
  private readonly conns = new Set<Conn>();
  /** The one open connection per peer node id. */
  private readonly active = new Map<string, Conn>();
  private readonly dialers: Dialer[] = [];
  /** node id → performance.now() until which it is refused. */
  private readonly bans = new Map<string, number>();
  private readonly messageHandlers: MessageHandler[] = [];
  private readonly peerHandlers: PeerHandler[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private localHeight = 0;
  private nextConnId = 1;
  private closing = false;

  private constructor(
    private readonly opts: NetworkOptions,
    private readonly server: tls.Server,
    readonly port: number,
    log: Logger,
  ) {
    this.log = log;
    this.now = opts.now ?? (() => new Date());
    this.maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxQueueBytes = opts.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    this.handshakeTimeoutMs = opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  }

  /**
   * Validates the options (the certificate must name `nodeId` and bind the TLS key), listens,
   * and starts dialling the configured peers.
   */
  static async start(opts: NetworkOptions): Promise<PeerNetwork> {
    const log = opts.log.child({ module: "p2p", node: opts.nodeId });
    for (const [name, v] of [
      ["maxFrameBytes", opts.maxFrameBytes],
      ["maxQueueBytes", opts.maxQueueBytes],
      ["handshakeTimeoutMs", opts.handshakeTimeoutMs],
    ] as const)
      if (v !== undefined && (!Number.isSafeInteger(v) || v < 1))
        throw new InvalidInputError("P2P_BAD_OPTION", `${name} must be a positive integer`);
    const cert = parseCertificate(certificateFromPem(opts.certPem));
    if (cert.subject.cn !== opts.nodeId)
      throw new InvalidInputError("P2P_CERT_MISMATCH", "certificate CN differs from nodeId", {
        nodeId: opts.nodeId,
        cn: cert.subject.cn,
      });
    if (!equalBytes(tlsPublicKeyFromPem(opts.tlsKeyPem), cert.tlsPublicKey))
      throw new InvalidInputError("P2P_CERT_MISMATCH", "certificate does not bind this node's TLS key");
    const own = verifyNodeCertificate(certificateFromPem(opts.certPem), {
      suite: opts.suite,
      orgRoots: opts.orgRoots(),
      now: (opts.now ?? (() => new Date()))(),
    });
    if (!own.ok) log.warn("own certificate does not verify; peers will refuse it", { code: own.code });
    const peers = opts.peers.map((a) => ({ address: a, ...parseAddress(a) }));

    const server = tls.createServer({
      key: opts.tlsKeyPem,
      cert: opts.certPem,
      minVersion: "TLSv1.3",
      requestCert: true,
      // OpenSSL cannot check the gm chain; we check the certificate ourselves after the handshake
      // (OpenSSL still proves possession of the leaf key through CertificateVerify).
      rejectUnauthorized: false,
      handshakeTimeout: opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.listen.port, opts.listen.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const net = new PeerNetwork(opts, server, (server.address() as AddressInfo).port, log);
    server.on("secureConnection", (socket: tls.TLSSocket) => net.accept(socket));
    server.on("tlsClientError", (err: Error, socket: tls.TLSSocket) =>
      log.debug("inbound TLS handshake failed", {
        address: `${socket.remoteAddress}:${socket.remotePort}`,
        error: err.message,
      }),
    );
    server.on("error", (err: Error) => log.error("p2p server error", { error: err.message }));
    log.info("p2p listening", { host: opts.listen.host, port: net.port, peers: opts.peers.length });
    net.timers.push(setInterval(() => net.tick(), STATUS_INTERVAL_MS).unref());
    net.timers.push(setInterval(() => net.revalidate(), REVALIDATE_INTERVAL_MS).unref());
    for (const p of peers) {
      const d: Dialer = { ...p, backoffMs: BACKOFF_MIN_MS, self: false };
      net.dialers.push(d);
      net.dial(d);
    }
    return net;
  }

  // ----------------------------------------------------------------------------- public API

  /** The connected peers (one entry per node id). */
  peers(): PeerInfo[] {
    return [...this.active.values()].map((c) => ({ ...(c.info as PeerInfo) }));
  }

  /** Number of live sockets (handshaking, open or retiring): for diagnostics and tests. */
  connectionCount(): number {
    return this.conns.size;
  }

  broadcast(channel: number, payload: Uint8Array): void {
    const frame = this.appFrame(channel, payload);
    for (const c of [...this.active.values()]) this.write(c, frame);
  }

  /** Queues a message for one peer; false when it is not connected (or was just dropped). */
  send(nodeId: string, channel: number, payload: Uint8Array): boolean {
    const frame = this.appFrame(channel, payload);
    const c = this.active.get(nodeId);
    return c !== undefined && this.write(c, frame);
  }

  onMessage(handler: MessageHandler): void {
    this.messageHandlers.push(handler);
  }

  onPeer(handler: PeerHandler): void {
    this.peerHandlers.push(handler);
  }

  setLocalHeight(h: number): void {
    if (!Number.isSafeInteger(h) || h < 0)
      throw new InvalidInputError("P2P_BAD_HEIGHT", "height must be a non-negative integer");
    if (h === this.localHeight) return;
    this.localHeight = h;
    this.sendStatus();
  }

  /** Disconnects the peer and refuses it (inbound and outbound) for `banMs`. */
  penalize(nodeId: string, reason: string, banMs: number = DEFAULT_BAN_MS): void {
    this.bans.set(nodeId, performance.now() + banMs);
    this.log.warn("peer penalized", { peer: nodeId, reason, banMs });
    for (const c of [...this.conns]) if (c.certNodeId === nodeId) this.destroy(c);
  }

  /** Re-checks every peer's certificate against `orgRoots()` now; drops those that fail. */
  revalidate(): void {
    const orgRoots = this.opts.orgRoots();
    const now = this.now();
    for (const c of [...this.conns]) {
      if (c.certDer === undefined || c.state === "closed") continue;
      const r = verifyNodeCertificate(c.certDer, { suite: this.opts.suite, orgRoots, now });
      if (!r.ok) {
        this.log.warn("peer certificate no longer valid", {
          peer: c.certNodeId,
          address: c.address,
          code: r.code,
          reason: r.message,
        });
        this.destroy(c);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const t of this.timers) clearInterval(t);
    for (const d of this.dialers) if (d.timer) clearTimeout(d.timer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // A connection leaves `conns` on its socket's close event, so every one left will emit it.
    const sockets = [...this.conns].map(
      (c) => new Promise<void>((resolve) => c.socket.once("close", resolve)),
    );
    for (const c of [...this.conns]) this.destroy(c);
    await Promise.all([closed, ...sockets]);
    this.log.info("p2p closed");
  }

  // ----------------------------------------------------------------------------- connections

  private appFrame(channel: number, payload: Uint8Array): Uint8Array {
    if (!Number.isInteger(channel) || channel < 1 || channel > 255)
      throw new InvalidInputError(
        "P2P_BAD_CHANNEL",
        `channel must be 1..255 (0 is the network's), got ${channel}`,
      );
    if (!(payload instanceof Uint8Array))
      throw new InvalidInputError("P2P_BAD_PAYLOAD", "payload must be bytes");
    if (payload.length + 1 > this.maxFrameBytes)
      throw new InvalidInputError(
        "P2P_FRAME_TOO_LARGE",
        `message of ${payload.length} bytes exceeds maxFrameBytes ${this.maxFrameBytes}`,
      );
    return encodeFrame(channel, payload);
  }

  private newConn(socket: tls.TLSSocket, direction: "in" | "out", address: string, dialer?: Dialer): Conn {
    const conn: Conn = {
      id: this.nextConnId++,
      socket,
      direction,
      address,
      decoder: new FrameDecoder(this.maxFrameBytes),
      state: "tls",
      lastRecv: performance.now(),
    };
    if (dialer !== undefined) conn.dialer = dialer;
    this.conns.add(conn);
    conn.timer = setTimeout(
      () => this.refuse(conn, "P2P_HANDSHAKE_TIMEOUT", "handshake timed out"),
      this.handshakeTimeoutMs,
    );
    conn.timer.unref();
    socket.on("error", (err: Error) =>
      this.log.debug("peer socket error", { address, peer: conn.certNodeId, error: err.message }),
    );
    socket.on("close", () => this.onClose(conn));
    return conn;
  }

  private accept(socket: tls.TLSSocket): void {
    if (this.closing) {
      socket.destroy();
      return;
    }
    // Votes are small frames that must leave at once: no Nagle delay.
    socket.setNoDelay(true);
    const conn = this.newConn(socket, "in", `${socket.remoteAddress}:${socket.remotePort}`);
    this.onSecure(conn);
  }

  private dial(d: Dialer): void {
    if (this.closing || d.self || d.conn !== undefined || d.timer !== undefined) return;
    if (d.nodeId !== undefined) {
      // Already connected to that node (perhaps through its own dial): wait for it to go down.
      if (this.active.has(d.nodeId)) return;
      const left = this.banLeft(d.nodeId);
      if (left > 0) {
        d.timer = setTimeout(() => {
          d.timer = undefined;
          this.dial(d);
        }, left);
        d.timer.unref();
        return;
      }
    }
    this.log.debug("dialling peer", { address: d.address });
    const socket = tls.connect({
      host: d.host,
      port: d.port,
      key: this.opts.tlsKeyPem,
      cert: this.opts.certPem,
      minVersion: "TLSv1.3",
      rejectUnauthorized: false,
      checkServerIdentity: () => undefined,
    });
    socket.setNoDelay(true);
    const conn = this.newConn(socket, "out", d.address, d);
    d.conn = conn;
    socket.once("secureConnect", () => this.onSecure(conn));
  }

  /** Schedules the next dial of `d` after its backoff (jittered), doubling the backoff. */
  private redial(d: Dialer): void {
    if (this.closing || d.self || d.conn !== undefined || d.timer !== undefined) return;
    const delay = Math.round(d.backoffMs * (0.5 + Math.random() * 0.5));
    d.backoffMs = Math.min(d.backoffMs * 2, BACKOFF_MAX_MS);
    d.timer = setTimeout(() => {
      d.timer = undefined;
      this.dial(d);
    }, delay);
    d.timer.unref();
  }

  private banLeft(nodeId: string): number {
    const until = this.bans.get(nodeId);
    if (until === undefined) return 0;
    const left = until - performance.now();
    if (left <= 0) {
      this.bans.delete(nodeId);
      return 0;
    }
    return Math.ceil(left);
  }

  /** TLS is up: check the peer certificate, then send our hello. */
  private onSecure(conn: Conn): void {
    if (this.closing || conn.state !== "tls") {
      this.destroy(conn);
      return;
    }
    const x509 = conn.socket.getPeerX509Certificate();
    if (x509 === undefined) {
      this.refuse(conn, "P2P_CERT_MISSING", "peer presented no certificate");
      return;
    }
    const der = new Uint8Array(x509.raw);
    const r = verifyNodeCertificate(der, {
      suite: this.opts.suite,
      orgRoots: this.opts.orgRoots(),
      now: this.now(),
    });
    if (!r.ok) {
      this.refuse(conn, r.code, r.message);
      return;
    }
    conn.certDer = der;
    conn.certNodeId = r.nodeId;
    conn.org = r.org;
    if (conn.dialer !== undefined) conn.dialer.nodeId = r.nodeId;
    if (r.nodeId === this.opts.nodeId) {
      if (conn.dialer !== undefined) conn.dialer.self = true;
      this.refuse(conn, "P2P_SELF", "the peer is this node");
      return;
    }
    if (this.banLeft(r.nodeId) > 0) {
      this.refuse(conn, "P2P_BANNED", "peer is banned");
      return;
    }
    conn.state = "hello";
    conn.socket.on("data", (chunk: Buffer) => this.onData(conn, chunk));
    conn.socket.write(
      encodeFrame(
        CONTROL_CHANNEL,
        encode({
          v: HELLO_VERSION,
          chainId: this.opts.chainId,
          genesisHash: this.opts.genesisHash,
          nodeId: this.opts.nodeId,
          height: this.localHeight,
        }),
      ),
    );
  }

  private onData(conn: Conn, chunk: Uint8Array): void {
    if (conn.state === "closed") return;
    conn.lastRecv = performance.now();
    let frames: Frame[];
    try {
      frames = conn.decoder.push(chunk);
    } catch (err: unknown) {
      this.punish(conn, codeOf(err), messageOf(err));
      return;
    }
    for (const f of frames) {
      if (isClosed(conn)) return; // a frame before this one may have refused the peer
      try {
        this.onFrame(conn, f);
      } catch (err: unknown) {
        this.punish(conn, codeOf(err), messageOf(err));
        return;
      }
    }
  }

  private onFrame(conn: Conn, f: Frame): void {
    if (conn.state === "hello") {
      if (f.channel !== CONTROL_CHANNEL)
        throw new InvalidInputError("P2P_PROTOCOL", "first frame must be the hello on channel 0");
      this.onHello(conn, f.payload);
      return;
    }
    const info = conn.info as PeerInfo;
    if (f.channel === CONTROL_CHANNEL) {
      info.height = decodeStatus(f.payload);
      return;
    }
    for (const h of this.messageHandlers) {
      try {
        h({ ...info }, f.channel, f.payload);
      } catch (err: unknown) {
        this.log.error("message handler failed", {
          peer: info.nodeId,
          channel: f.channel,
          error: messageOf(err),
        });
      }
    }
  }

  private onHello(conn: Conn, payload: Uint8Array): void {
    const hello = decodeHello(payload);
    const o = this.opts;
    if (hello.v !== HELLO_VERSION) {
      this.refuse(conn, "P2P_BAD_VERSION", `unsupported hello version ${hello.v}`);
    } else if (hello.chainId !== o.chainId) {
      this.refuse(conn, "P2P_WRONG_CHAIN", "peer is on another chain", { theirs: hello.chainId });
    } else if (!equalBytes(hello.genesisHash, o.genesisHash)) {
      this.refuse(conn, "P2P_WRONG_GENESIS", "peer has another genesis");
    } else if (hello.nodeId !== conn.certNodeId) {
      this.refuse(conn, "P2P_HELLO_MISMATCH", "hello nodeId differs from the certificate CN", {
        hello: hello.nodeId,
      });
    } else {
      this.open(conn, hello.height);
    }
  }

  private open(conn: Conn, height: number): void {
    const nodeId = conn.certNodeId as string;
    if (conn.timer) clearTimeout(conn.timer);
    conn.timer = undefined;
    conn.info = { nodeId, org: conn.org as string, address: conn.address, direction: conn.direction, height };
    if (conn.dialer !== undefined) conn.dialer.backoffMs = BACKOFF_MIN_MS;
    const existing = this.active.get(nodeId);
    if (existing !== undefined) {
      // Keep the connection dialled by the smaller node id; between two of the same direction
      // the newer (the peer redialled: the older one is stale).
      const preferred = this.opts.nodeId < nodeId ? "out" : "in";
      if (conn.direction === existing.direction || conn.direction === preferred) {
        this.log.debug("replacing duplicate connection", { peer: nodeId, keep: conn.direction });
        conn.state = "open";
        this.active.set(nodeId, conn);
        this.retire(existing);
      } else {
        this.log.debug("closing duplicate connection", { peer: nodeId, drop: conn.direction });
        conn.state = "open";
        this.retire(conn);
      }
      return;
    }
    conn.state = "open";
    this.active.set(nodeId, conn);
    this.log.info("peer up", {
      peer: nodeId,
      org: conn.org,
      address: conn.address,
      direction: conn.direction,
    });
    this.emitPeer("up", conn.info);
  }

  /** Stop sending on a duplicate connection, let it flush, and close it. */
  private retire(conn: Conn): void {
    conn.state = "retired";
    conn.socket.end();
    const t = setTimeout(() => this.destroy(conn), RETIRE_GRACE_MS);
    t.unref();
    conn.timer = t;
  }

  private write(conn: Conn, frame: Uint8Array): boolean {
    if (conn.state !== "open") return false;
    if (conn.socket.writableLength + frame.length > this.maxQueueBytes) {
      this.log.warn("peer send queue full; dropping peer", {
        peer: conn.certNodeId,
        queued: conn.socket.writableLength,
        limit: this.maxQueueBytes,
      });
      this.destroy(conn);
      return false;
    }
    conn.socket.write(frame);
    return true;
  }

  private sendStatus(): void {
    const frame = encodeFrame(CONTROL_CHANNEL, encode({ height: this.localHeight }));
    for (const c of [...this.active.values()]) this.write(c, frame);
  }

  private tick(): void {
    const t = performance.now();
    for (const c of [...this.active.values()])
      if (t - c.lastRecv > IDLE_TIMEOUT_MS) {
        this.log.warn("peer silent; dropping", { peer: c.certNodeId, silentMs: Math.round(t - c.lastRecv) });
        this.destroy(c);
      }
    this.sendStatus();
  }

  /** Refuse a connection during the handshake (logged; not banned). */
  private refuse(conn: Conn, code: string, reason: string, fields: Record<string, unknown> = {}): void {
    if (conn.state === "closed") return;
    this.log.warn("peer refused", {
      code,
      reason,
      address: conn.address,
      direction: conn.direction,
      peer: conn.certNodeId,
      ...fields,
    });
    // Close gracefully so that the peer still reads our hello and logs its own reason; the
    // socket is destroyed if it does not close by itself soon.
    conn.state = "closed";
    if (conn.timer) clearTimeout(conn.timer);
    conn.timer = setTimeout(() => conn.socket.destroy(), RETIRE_GRACE_MS);
    conn.timer.unref();
    conn.socket.resume(); // discard what the peer still sends, so that its close is seen
    conn.socket.end();
  }

  /** A protocol fault (oversized or malformed frame): ban the node if we know it, else drop. */
  private punish(conn: Conn, code: string, reason: string): void {
    if (conn.certNodeId !== undefined) this.penalize(conn.certNodeId, code);
    else this.refuse(conn, code, reason);
  }

  private destroy(conn: Conn): void {
    conn.state = "closed";
    if (!conn.socket.destroyed) conn.socket.destroy();
  }

  private onClose(conn: Conn): void {
    conn.state = "closed";
    if (conn.timer) clearTimeout(conn.timer);
    conn.timer = undefined;
    this.conns.delete(conn);
    const d = conn.dialer;
    if (d !== undefined && d.conn === conn) d.conn = undefined;
    const nodeId = conn.certNodeId;
    if (nodeId !== undefined && this.active.get(nodeId) === conn) {
      this.active.delete(nodeId);
      if (!this.closing) {
        this.log.info("peer down", { peer: nodeId, address: conn.address });
        this.emitPeer("down", conn.info as PeerInfo);
      }
      for (const other of this.dialers) if (other.nodeId === nodeId && other !== d) this.redial(other);
    }
    if (d !== undefined) this.redial(d);
  }

  private emitPeer(event: "up" | "down", info: PeerInfo): void {
    for (const h of this.peerHandlers) {
      try {
        h(event, { ...info });
      } catch (err: unknown) {
        this.log.error("peer handler failed", { event, peer: info.nodeId, error: messageOf(err) });
      }
    }
  }
}

// ----------------------------------------------------------------------------- channel 0

interface Hello {
  v: number;
  chainId: string;
  genesisHash: Uint8Array;
  nodeId: string;
  height: number;
}

function controlMap(payload: Uint8Array, keys: string[], what: string): Record<string, CborValue> {
  const v = decode(payload, MAX_CONTROL_BYTES);
  if (v === null || typeof v !== "object" || Array.isArray(v) || v instanceof Uint8Array)
    throw new InvalidInputError("P2P_PROTOCOL", `${what} must be a map`);
  const got = Object.keys(v).sort();
  if (got.length !== keys.length || !keys.every((k) => got.includes(k)))
    throw new InvalidInputError("P2P_PROTOCOL", `${what} must have exactly the fields ${keys.join(", ")}`);
  return v;
}

function isHeight(x: unknown): x is number {
  return typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
}

export function decodeHello(payload: Uint8Array): Hello {
  const m = controlMap(payload, ["chainId", "genesisHash", "height", "nodeId", "v"], "hello");
  const { v, chainId, genesisHash, nodeId, height } = m;
  if (
    typeof v !== "number" ||
    typeof chainId !== "string" ||
    !(genesisHash instanceof Uint8Array) ||
    typeof nodeId !== "string" ||
    !isHeight(height)
  )
    throw new InvalidInputError("P2P_PROTOCOL", "hello has a field of the wrong type");
  return { v, chainId, genesisHash, nodeId, height };
}

export function decodeStatus(payload: Uint8Array): number {
  const { height } = controlMap(payload, ["height"], "status");
  if (!isHeight(height))
    throw new InvalidInputError("P2P_PROTOCOL", "status height must be a non-negative integer");
  return height;
}
