/**
 * The peer-to-peer transport (src/p2p/network.ts) over real TLS 1.3 on 127.0.0.1, ephemeral
 * ports, both suites: connection, one connection per pair, certificate and hello refusals,
 * organization removal, redial, bans, frame and queue bounds.
 */
import assert from "node:assert/strict";
import * as net from "node:net";
import { after, describe, test } from "node:test";
import * as tls from "node:tls";
import { encode } from "../codec/cbor.js";
import { getSuite } from "../crypto/index.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { encodeFrame, FrameDecoder } from "./frame.js";
import { type NetworkOptions, type PeerInfo, PeerNetwork, parseAddress } from "./network.js";
import {
  captureLogger,
  type LogRecord,
  makeNode,
  makeOrg,
  type NodeIdentity,
  type Org,
  rootsOf,
  until,
  waitForLog,
} from "./test-support.js";

const GENESIS = new Uint8Array(32).fill(7);
const CHAIN = "zl-test";
// Generous: these run beside multi-process tests on a loaded 2-core machine.
const T = { timeout: 20_000 };

interface Running {
  net: PeerNetwork;
  cap: ReturnType<typeof captureLogger>;
  id: NodeIdentity;
  received: Array<{ from: PeerInfo; channel: number; payload: Uint8Array }>;
  events: Array<{ event: "up" | "down"; peer: PeerInfo }>;
}

const running: PeerNetwork[] = [];
after(async () => {
  await Promise.all(running.map((n) => n.close()));
});

async function start(
  suite: CryptoSuite,
  id: NodeIdentity,
  roots: ReadonlyMap<string, Uint8Array>,
  extra: Partial<NetworkOptions> = {},
): Promise<Running> {
  const cap = captureLogger();
  const net = await PeerNetwork.start({
    chainId: CHAIN,
    genesisHash: GENESIS,
    nodeId: id.nodeId,
    suite,
    listen: { host: "127.0.0.1", port: 0 },
    peers: [],
    tlsKeyPem: id.tlsKeyPem,
    certPem: id.certPem,
    orgRoots: () => roots,
    log: cap.log,
    ...extra,
  });
  running.push(net);
  const r: Running = { net, cap, id, received: [], events: [] };
  net.onMessage((from, channel, payload) => r.received.push({ from, channel, payload }));
  net.onPeer((event, peer) => r.events.push({ event, peer }));
  return r;
}

const addr = (r: Running): string => `127.0.0.1:${r.net.port}`;
const ids = (r: Running): string[] =>
  r.net
    .peers()
    .map((p) => p.nodeId)
    .sort();
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const refused = (code: string, direction?: "in" | "out") => (r: LogRecord) =>
  r.msg === "peer refused" &&
  r.fields.code === code &&
  (direction === undefined || r.fields.direction === direction);

/** Ports free right now (listen on 0, then release). */
async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<net.Server>((resolve) => {
          const srv = net.createServer();
          srv.listen(0, "127.0.0.1", () => resolve(srv));
        }),
    ),
  );
  const ports = servers.map((srv) => (srv.address() as net.AddressInfo).port);
  await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
  return ports;
}

/** A hand-driven TLS client: sends what it is told, records frames, resolves `closed`. */
async function rawClient(
  port: number,
  id: NodeIdentity,
): Promise<{ socket: tls.TLSSocket; closed: Promise<void> }> {
  const socket = tls.connect({
    host: "127.0.0.1",
    port,
    key: id.tlsKeyPem,
    cert: id.certPem,
    minVersion: "TLSv1.3",
    rejectUnauthorized: false,
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => {});
  const decoder = new FrameDecoder();
  socket.on("data", (c: Buffer) => decoder.push(c));
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  return { socket, closed };
}

function helloFrame(fields: { chainId?: string; genesisHash?: Uint8Array; nodeId: string; height?: number }) {
  return encodeFrame(
    0,
    encode({
      v: 1,
      chainId: fields.chainId ?? CHAIN,
      genesisHash: fields.genesisHash ?? GENESIS,
      nodeId: fields.nodeId,
      height: fields.height ?? 0,
    }),
  );
}

test("parseAddress", () => {
  assert.deepEqual(parseAddress("127.0.0.1:26656"), { host: "127.0.0.1", port: 26656 });
  assert.deepEqual(parseAddress("[::1]:80"), { host: "::1", port: 80 });
  assert.deepEqual(parseAddress("node-1.example:9"), { host: "node-1.example", port: 9 });
  for (const bad of ["nohost", "h:0", "h:70000", ":1", "::1:80"])
    assert.throws(() => parseAddress(bad), { code: "P2P_BAD_ADDRESS" }, bad);
});

for (const suiteId of ["intl", "gm"] as const) {
  const suite = getSuite(suiteId);
  const orgA: Org = makeOrg(suite, "org-a");
  const orgB: Org = makeOrg(suite, "org-b");
  const orgX: Org = makeOrg(suite, "org-x");
  const roots = rootsOf(orgA, orgB);

  describe(`p2p network (${suiteId})`, () => {
    test("two networks connect and exchange messages both ways", T, async () => {
      const a = await start(suite, makeNode(suite, orgA, "node-a"), roots);
      const b = await start(suite, makeNode(suite, orgB, "node-b"), roots, { peers: [addr(a)] });
      await until(() => a.net.peers().length === 1 && b.net.peers().length === 1, "connection");
      const [pa] = a.net.peers();
      const [pb] = b.net.peers();
      assert.deepEqual(
        { ...pa, address: "" },
        { nodeId: "node-b", org: "org-b", address: "", direction: "in", height: 0 },
      );
      assert.deepEqual(pb, { nodeId: "node-a", org: "org-a", address: addr(a), direction: "out", height: 0 });
      assert.deepEqual(
        a.events.map((e) => e.event),
        ["up"],
      );

      assert.equal(a.net.send("node-b", 3, text("to b")), true);
      b.net.broadcast(4, text("to a"));
      assert.equal(a.net.send("node-z", 3, text("nobody")), false);
      await until(() => a.received.length === 1 && b.received.length === 1, "messages");
      assert.deepEqual([b.received[0]?.from.nodeId, b.received[0]?.channel], ["node-a", 3]);
      assert.equal(new TextDecoder().decode(b.received[0]?.payload), "to b");
      assert.deepEqual([a.received[0]?.from.nodeId, a.received[0]?.channel], ["node-b", 4]);
      assert.equal(new TextDecoder().decode(a.received[0]?.payload), "to a");
      assert.throws(() => a.net.send("node-b", 0, text("x")), { code: "P2P_BAD_CHANNEL" });

      // Height: advertised in status frames when it changes.
      a.net.setLocalHeight(42);
      await until(() => b.net.peers()[0]?.height === 42, "height 42 at b");
      // Handshake hello carries the height too (c starts after a's height is set).
      const c = await start(suite, makeNode(suite, orgA, "node-c"), roots, { peers: [addr(a)] });
      await until(() => c.net.peers()[0]?.height === 42, "height from hello");
      // No key material in the logs.
      const logged = JSON.stringify([...a.cap.records, ...b.cap.records]);
      assert.equal(logged.includes("PRIVATE KEY"), false);
      await Promise.all([a.net.close(), b.net.close(), c.net.close()]);
    });

    test(
      "a certificate from an organization that is not a member is refused, dialling and listening",
      T,
      async () => {
        const a = await start(suite, makeNode(suite, orgA, "node-a"), roots);
        // x trusts a; a does not know org-x. Both dial each other.
        const x = await start(suite, makeNode(suite, orgX, "node-x"), rootsOf(orgA, orgX), {
          peers: [addr(a)],
        });
        const a2 = await start(suite, makeNode(suite, orgA, "node-a2"), roots, { peers: [addr(x)] });
        const inbound = await waitForLog(a.cap, refused("P2P_CERT_UNKNOWN_ORG", "in"), "a refuses x");
        const outbound = await waitForLog(a2.cap, refused("P2P_CERT_UNKNOWN_ORG", "out"), "a2 refuses x");
        assert.equal(inbound.fields.peer, undefined);
        assert.equal(outbound.fields.address, addr(x));
        assert.deepEqual([a.net.peers(), a2.net.peers(), x.net.peers()], [[], [], []]);
        assert.equal(x.events.length + a.events.length + a2.events.length, 0);
        await Promise.all([a.net.close(), x.net.close(), a2.net.close()]);
      },
    );

    test("a certificate signed by the wrong key, or expired, is refused", T, async () => {
      const a = await start(suite, makeNode(suite, orgA, "node-a"), roots);
      const forged = makeNode(suite, orgB, "node-f", { signingKey: orgA.privateKey });
      const expired = makeNode(suite, orgB, "node-e", {
        notBefore: new Date(Date.now() - 10 * 86_400_000),
        notAfter: new Date(Date.now() - 86_400_000),
      });
      const f = await start(suite, forged, roots, { peers: [addr(a)] });
      const e = await start(suite, expired, roots, { peers: [addr(a)] });
      await waitForLog(a.cap, refused("P2P_CERT_BAD_SIGNATURE", "in"), "forged refused");
      await waitForLog(a.cap, refused("P2P_CERT_EXPIRED", "in"), "expired refused");
      assert.deepEqual(a.net.peers(), []);
      assert.equal(f.events.length + e.events.length + a.events.length, 0);
      await Promise.all([a.net.close(), f.net.close(), e.net.close()]);
    });

    test("another chain id or genesis is refused", T, async () => {
      const a = await start(suite, makeNode(suite, orgA, "node-a"), roots);
      const c = await start(suite, makeNode(suite, orgB, "node-c"), roots, {
        peers: [addr(a)],
        chainId: "other",
      });
      const g = await start(suite, makeNode(suite, orgB, "node-g"), roots, {
        peers: [addr(a)],
        genesisHash: new Uint8Array(32).fill(8),
      });
      await waitForLog(a.cap, refused("P2P_WRONG_CHAIN", "in"), "chain refused by listener");
      await waitForLog(c.cap, refused("P2P_WRONG_CHAIN", "out"), "chain refused by dialler");
      await waitForLog(a.cap, refused("P2P_WRONG_GENESIS", "in"), "genesis refused");
      await waitForLog(g.cap, refused("P2P_WRONG_GENESIS", "out"), "genesis refused by dialler");
      assert.deepEqual([a.net.peers(), c.net.peers(), g.net.peers()], [[], [], []]);
      await Promise.all([a.net.close(), c.net.close(), g.net.close()]);
    });

    test(
      "removing an organization then revalidate() disconnects its node; it cannot reconnect",
      T,
      async () => {
        const liveRoots = rootsOf(orgA, orgB);
        const a = await start(suite, makeNode(suite, orgA, "node-a"), liveRoots);
        const b = await start(suite, makeNode(suite, orgB, "node-b"), roots, { peers: [addr(a)] });
        await until(() => a.net.peers().length === 1 && b.net.peers().length === 1, "connection");
        liveRoots.delete("org-b");
        a.net.revalidate();
        await until(() => a.net.peers().length === 0 && b.net.peers().length === 0, "disconnection");
        assert.ok(
          a.cap.records.some(
            (r) => r.msg === "peer certificate no longer valid" && r.fields.code === "P2P_CERT_UNKNOWN_ORG",
          ),
        );
        // b redials and is refused at the certificate check.
        await waitForLog(a.cap, refused("P2P_CERT_UNKNOWN_ORG", "in"), "b refused after removal");
        assert.deepEqual(
          a.events.map((e) => e.event),
          ["up", "down"],
        );
        assert.deepEqual(a.net.peers(), []);
        await Promise.all([a.net.close(), b.net.close()]);
      },
    );
  });
}

describe("p2p network (intl): topology and protocol faults", () => {
  const suite = getSuite("intl");
  const orgA = makeOrg(suite, "org-a");
  const orgB = makeOrg(suite, "org-b");
  const roots = rootsOf(orgA, orgB);

  test("three networks in a triangle, all dialling each other: one connection per pair", T, async () => {
    const ports = await freePorts(3);
    const names = ["node-a", "node-b", "node-c"];
    const all = await Promise.all(
      names.map((name, i) =>
        start(suite, makeNode(suite, i === 1 ? orgB : orgA, name), roots, {
          listen: { host: "127.0.0.1", port: ports[i] as number },
          peers: ports.filter((_, j) => j !== i).map((p) => `127.0.0.1:${p}`),
        }),
      ),
    );
    // Every pair dialled both ways; each keeps the connection dialled by the smaller id.
    const settled = () =>
      all.every(
        (n) =>
          n.net.peers().length === 2 &&
          n.net.connectionCount() === 2 &&
          n.net.peers().every((p) => p.direction === (n.id.nodeId < p.nodeId ? "out" : "in")),
      );
    await until(settled, "a settled triangle");
    const [a, b, c] = all as [Running, Running, Running];
    assert.deepEqual(ids(a), ["node-b", "node-c"]);
    assert.deepEqual(ids(b), ["node-a", "node-c"]);
    assert.deepEqual(ids(c), ["node-a", "node-b"]);
    for (const n of all) n.net.broadcast(9, text(n.id.nodeId));
    await until(() => all.every((n) => n.received.filter((m) => m.channel === 9).length === 2), "broadcasts");
    for (const n of all)
      assert.deepEqual(
        n.received.map((m) => new TextDecoder().decode(m.payload)).sort(),
        names.filter((x) => x !== n.id.nodeId),
      );
    // No dialler keeps reconnecting: the kept connections are the first ones that came up.
    assert.ok(settled());
    await Promise.all(all.map((n) => n.net.close()));
  });

  test("a peer that closes and restarts on the same port is redialled", T, async () => {
    const ia = makeNode(suite, orgA, "node-a");
    const a = await start(suite, ia, roots);
    const port = a.net.port;
    const b = await start(suite, makeNode(suite, orgB, "node-b"), roots, { peers: [addr(a)] });
    await until(() => b.net.peers().length === 1, "first connection");
    await a.net.close();
    await until(() => b.events.some((e) => e.event === "down"), "b sees a down");
    const a2 = await start(suite, ia, roots, { listen: { host: "127.0.0.1", port } });
    await until(() => b.net.peers().length === 1 && a2.net.peers().length === 1, "redialled");
    assert.deepEqual(
      b.events.map((e) => e.event),
      ["up", "down", "up"],
    );
    await Promise.all([a2.net.close(), b.net.close()]);
  });

  test("a frame over maxFrameBytes gets that peer penalized; other peers are unaffected", T, async () => {
    const a = await start(suite, makeNode(suite, orgA, "node-a"), roots, { maxFrameBytes: 1024 });
    const b = await start(suite, makeNode(suite, orgB, "node-b"), roots, { peers: [addr(a)] });
    const c = await start(suite, makeNode(suite, orgA, "node-c"), roots, { peers: [addr(a)] });
    await until(() => a.net.peers().length === 2, "a has two peers");
    assert.equal(b.net.send("node-a", 5, new Uint8Array(2000)), true);
    const pen = await waitForLog(a.cap, (r) => r.msg === "peer penalized", "b penalized");
    assert.deepEqual([pen.fields.peer, pen.fields.reason], ["node-b", "P2P_FRAME_TOO_LARGE"]);
    await until(() => ids(a).join() === "node-c" && b.net.peers().length === 0, "b dropped");
    // b is banned: its redial is refused.
    await waitForLog(a.cap, refused("P2P_BANNED", "in"), "b's redial refused");
    assert.equal(a.net.send("node-c", 5, text("still here")), true);
    c.net.broadcast(6, text("me too"));
    await until(() => c.received.length === 1 && a.received.some((m) => m.channel === 6), "c unaffected");
    assert.equal(a.received.filter((m) => m.from.nodeId === "node-b").length, 0);
    assert.throws(() => a.net.send("node-c", 5, new Uint8Array(1024)), { code: "P2P_FRAME_TOO_LARGE" });
    await Promise.all([a.net.close(), b.net.close(), c.net.close()]);
  });

  test("penalize() disconnects and refuses for banMs, then the peer reconnects", T, async () => {
    const a = await start(suite, makeNode(suite, orgA, "node-a"), roots);
    const b = await start(suite, makeNode(suite, orgB, "node-b"), roots, { peers: [addr(a)] });
    await until(() => a.net.peers().length === 1, "connected");
    a.net.penalize("node-b", "test", 2_000);
    await until(() => a.net.peers().length === 0, "dropped");
    await waitForLog(a.cap, refused("P2P_BANNED", "in"), "refused while banned");
    await until(() => a.net.peers().length === 1 && b.net.peers().length === 1, "reconnected after the ban");
    await Promise.all([a.net.close(), b.net.close()]);
  });

  test("a peer whose outbound queue exceeds maxQueueBytes is dropped", T, async () => {
    const a = await start(suite, makeNode(suite, orgA, "node-a"), roots, { maxQueueBytes: 4 * 1024 * 1024 });
    const b = await start(suite, makeNode(suite, orgB, "node-b"), roots, { peers: [addr(a)] });
    await until(() => a.net.peers().length === 1, "connected");
    const chunk = new Uint8Array(1024 * 1024);
    let accepted = 0;
    for (let i = 0; i < 64; i++) if (a.net.send("node-b", 2, chunk)) accepted++;
    assert.ok(accepted < 64, `all ${accepted} sends were queued`);
    await waitForLog(
      a.cap,
      (r) => r.msg === "peer send queue full; dropping peer" && r.level === "warn",
      "drop",
    );
    await until(() => a.events.some((e) => e.event === "down"), "b down at a");
    await Promise.all([a.net.close(), b.net.close()]);
  });

  test("a hello whose nodeId differs from the certificate CN is refused", T, async () => {
    const a = await start(suite, makeNode(suite, orgA, "node-a"), roots);
    const m = makeNode(suite, orgB, "node-m");
    const client = await rawClient(a.net.port, m);
    client.socket.write(helloFrame({ nodeId: "node-other" }));
    await waitForLog(a.cap, refused("P2P_HELLO_MISMATCH", "in"), "mismatch refused");
    await client.closed;
    assert.deepEqual(a.net.peers(), []);
    await a.net.close();
  });

  test("a peer that never says hello times out; application frames before hello are a fault", T, async () => {
    const a = await start(suite, makeNode(suite, orgA, "node-a"), roots, { handshakeTimeoutMs: 300 });
    const silent = await rawClient(a.net.port, makeNode(suite, orgB, "node-s"));
    await waitForLog(a.cap, refused("P2P_HANDSHAKE_TIMEOUT", "in"), "timeout");
    await silent.closed;
    const rude = await rawClient(a.net.port, makeNode(suite, orgB, "node-r"));
    rude.socket.write(encodeFrame(1, text("too early")));
    await waitForLog(a.cap, (r) => r.msg === "peer penalized" && r.fields.peer === "node-r", "early frame");
    await rude.closed;
    await a.net.close();
  });

  test("start() refuses a certificate that does not match the node id or TLS key", async () => {
    const n = makeNode(suite, orgA, "node-a");
    const other = makeNode(suite, orgA, "node-a");
    await assert.rejects(start(suite, n, roots, { nodeId: "node-z" }), { code: "P2P_CERT_MISMATCH" });
    await assert.rejects(start(suite, { ...n, tlsKeyPem: other.tlsKeyPem }, roots), {
      code: "P2P_CERT_MISMATCH",
    });
  });

  test("a node dialling its own address stops dialling it", T, async () => {
    const a = await start(suite, makeNode(suite, orgA, "node-a"), roots);
    // Restart on the same port with itself as a peer.
    const port = a.net.port;
    await a.net.close();
    const self = await start(suite, a.id, roots, {
      listen: { host: "127.0.0.1", port },
      peers: [`127.0.0.1:${port}`],
    });
    await waitForLog(self.cap, refused("P2P_SELF", "out"), "self refused");
    assert.deepEqual(self.net.peers(), []);
    await self.net.close();
  });
});
