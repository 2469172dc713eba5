/**
 * `zl` — the ZhengLian command line: init, start, dev, keys, tx send, query, status, bench, testnet,
 * node-cert, license and evidence.
 * Every command takes `--json` to print one machine-readable JSON document.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Command, Option } from "commander";
import { serveApi } from "../api/server.js";
import { runBlockPathBench } from "../bench/block-path.js";
import { runBench } from "../bench/single-node.js";
import { decode } from "../codec/cbor.js";
import { getSuite } from "../crypto/index.js";
import { SUITE_IDS, type SuiteId } from "../crypto/suite.js";
import { ZlError } from "../errors/index.js";
import { fromUtf8, toHex } from "../ledger/bytes.js";
import { homePaths, readGenesisFile, readPrivateKey, writePrivateKey } from "../node/home.js";
import { ZlNode } from "../node/node.js";
import { generateTlsKeyPair, tlsPublicKeyFromPem } from "../p2p/tls-key.js";
import {
  certificateFromPem,
  certificateToPem,
  issueNodeCertificate,
  parseCertificate,
  verifyNodeCertificate,
} from "../p2p/x509.js";
import { cborToJson, jsonToCbor } from "../sdk/args.js";
import { ZlClient } from "../sdk/client.js";
import { Signer } from "../sdk/signer.js";
import { apiOption, clientFor, homeOption, out, parseJson, signingClient } from "./common.js";
import { registerEvidenceCommands } from "./evidence.js";
import { initHome } from "./init.js";
import { registerLicenseCommands } from "./license.js";
import { initTestnet, startTestnet, stopTestnet, testnetStatus } from "./testnet.js";

const program = new Command();
program.name("zl").description("ZhengLian (政链) consortium blockchain node and tools").showHelpAfterError();

const suiteOption = () =>
  new Option("--suite <suite>", "crypto suite: intl or gm").choices(SUITE_IDS as string[]).default("intl");

async function runNode(home: string, json: boolean): Promise<void> {
  const node = await ZlNode.start(home, { frontend: serveApi });
  out(
    json,
    { api: node.apiUrl, home, chainId: node.chain.genesis.chainId, height: node.chain.height },
    `ZhengLian node is running.\n  API:      ${node.apiUrl}\n  status:   ${node.apiUrl}/v1/status\n  OpenAPI:  ${node.apiUrl}/openapi.json\n  home:     ${home}\nStop with Ctrl-C.`,
  );
  const shutdown = async (signal: string) => {
    node.log.info("shutting down", { signal });
    await node.stop();
    process.exit(0);
  };
  process.once("SIGINT", () => void shutdown("SIGINT"));
  process.once("SIGTERM", () => void shutdown("SIGTERM"));
}

const testnet = program
  .command("testnet")
  .description("a local consortium: N department nodes on loopback, each its own OS process");

testnet
  .command("init")
  .description("write genesis, keys, node certificates and configs for N validators")
  .requiredOption("--dir <dir>", "directory for the testnet")
  .option("--nodes <n>", "number of nodes (one department each)", "4")
  .option("--validators <n>", "how many of them validate (default: all)")
  .addOption(suiteOption())
  .option("--chain-id <id>", "chain id", "zl-testnet")
  .option("--p2p-port <port>", "first P2P port (node i uses port + i)", "26700")
  .option("--api-port <port>", "first API port (node i uses port + i)", "26800")
  .option("--json", "print JSON")
  .action((o) => {
    const m = initTestnet({
      dir: o.dir,
      nodes: Number(o.nodes),
      ...(o.validators ? { validators: Number(o.validators) } : {}),
      suite: o.suite,
      chainId: o.chainId,
      p2pPort: Number(o.p2pPort),
      apiPort: Number(o.apiPort),
    });
    out(
      o.json,
      m,
      `Testnet ${m.chainId} (${m.suite}) with ${m.nodes.length} nodes written to ${o.dir}.\nStart it with: zl testnet start --dir ${o.dir}`,
    );
  });

testnet
  .command("start")
  .description("start every node of the testnet as a background process")
  .requiredOption("--dir <dir>", "directory of the testnet")
  .option("--json", "print JSON")
  .action(async (o) => {
    const nodes = await startTestnet(o.dir);
    out(
      o.json,
      nodes.map((n) => ({ nodeId: n.nodeId, api: n.api, p2p: n.p2p, pid: n.pid, up: n.up })),
      nodes
        .map((n) => `${n.nodeId}  ${n.up ? "up  " : "DOWN"}  API ${n.api}  P2P ${n.p2p}  pid ${n.pid}`)
        .join("\n"),
    );
    if (nodes.some((n) => !n.up)) process.exitCode = 1;
  });

testnet
  .command("stop")
  .description("stop every node of the testnet")
  .requiredOption("--dir <dir>", "directory of the testnet")
  .option("--json", "print JSON")
  .action(async (o) => {
    const r = await stopTestnet(o.dir);
    out(o.json, r, r.map((n) => `${n.nodeId}  ${n.stopped ? "stopped" : "was not running"}`).join("\n"));
  });

testnet
  .command("status")
  .description("each node's height, round and peers")
  .requiredOption("--dir <dir>", "directory of the testnet")
  .option("--json", "print JSON")
  .action(async (o) => {
    const r = await testnetStatus(o.dir);
    out(
      o.json,
      r,
      r
        .map((n) => {
          const s = n.status as {
            height?: number;
            consensus?: { round?: number; stalled?: boolean };
            peers?: unknown[];
          } | null;
          return s
            ? `${n.nodeId}  height ${s.height}  round ${s.consensus?.round ?? 0}${s.consensus?.stalled ? "  STALLED" : ""}  peers ${s.peers?.length ?? 0}  ${n.api}`
            : `${n.nodeId}  down  ${n.api}`;
        })
        .join("\n"),
    );
  });

program
  .command("init")
  .description("create a node home with genesis, config and keys for a new single-node chain")
  .addOption(homeOption())
  .addOption(suiteOption())
  .option("--chain-id <id>", "chain id", "zl-local")
  .option("--org-id <id>", "founding organization id", "market")
  .option("--org-name <name>", "founding organization name", "市场监督管理局 Market Regulation")
  .option("--org-code <code>", "its unified social credit code", "11100000000000000X")
  .option("--port <port>", "API port", "26657")
  .option("--json", "print JSON")
  .action((o) => {
    const r = initHome({
      home: o.home,
      suite: o.suite,
      chainId: o.chainId,
      orgId: o.orgId,
      orgName: o.orgName,
      orgCode: o.orgCode,
      port: Number(o.port),
    });
    out(
      o.json,
      { home: o.home, chainId: r.genesis.chainId, suite: r.genesis.suite, adminAddress: r.adminAddress },
      `Initialised ${o.home} (chain ${r.genesis.chainId}, suite ${r.genesis.suite}); admin account ${r.adminAddress}.`,
    );
  });

program
  .command("start")
  .description("start a node from its home directory")
  .addOption(homeOption())
  .option("--json", "print JSON")
  .action(async (o) => runNode(o.home, o.json));

program
  .command("dev")
  .description("initialise a local single-node chain if none exists, then start it (what `npm start` runs)")
  .addOption(homeOption(".zl/dev"))
  .addOption(suiteOption())
  .option("--port <port>", "API port", "26657")
  .option("--json", "print JSON")
  .action(async (o) => {
    if (!existsSync(homePaths(o.home).genesis)) {
      initHome({
        home: o.home,
        suite: o.suite,
        chainId: "zl-dev",
        orgId: "market",
        orgName: "市场监督管理局 Market Regulation",
        orgCode: "11100000000000000X",
        port: Number(o.port),
      });
      if (!o.json) console.log(`Created a development chain in ${o.home} (suite ${o.suite}).`);
    }
    await runNode(o.home, o.json);
  });

const nodeCert = program
  .command("node-cert")
  .description("the node's TLS key and the certificate its organization issues for it");

nodeCert
  .command("issue")
  .description(
    "create the node's TLS key (if missing) and issue its certificate with an organization root key",
  )
  .addOption(homeOption())
  .requiredOption("--node-id <id>", "the node's name (the certificate's CN; config p2p.nodeId)")
  .option("--org-key <name>", "the organization's root key under <home>/keys", "admin")
  .option("--days <n>", "validity in days", "365")
  .option("--json", "print JSON")
  .action((o) => {
    const paths = homePaths(o.home);
    const genesis = readGenesisFile(paths.genesis);
    const suite = getSuite(genesis.suite);
    const orgKey = readPrivateKey(suite, paths.key(o.orgKey));
    const rootPublicKey = suite.publicKeyFromPrivate(orgKey);
    const org = genesis.orgs.find((g) => toHex(g.rootPublicKey) === toHex(rootPublicKey));
    if (!org)
      throw new ZlError(
        "P2P_NOT_AN_ORG_ROOT",
        `keys/${o.orgKey}.pem is not the root key of an organization in genesis; use the organization's root key`,
      );
    const days = Number(o.days);
    if (!Number.isSafeInteger(days) || days < 1 || days > 3650)
      throw new ZlError("P2P_BAD_VALIDITY", "--days must be 1..3650");
    if (!existsSync(paths.nodeTlsKey)) {
      mkdirSync(paths.keys, { recursive: true });
      writeFileSync(paths.nodeTlsKey, generateTlsKeyPair().privateKeyPem, { mode: 0o600 });
    }
    const now = Date.now();
    const der = issueNodeCertificate({
      suite,
      orgId: org.id,
      orgPrivateKey: orgKey,
      nodeId: o.nodeId,
      tlsPublicKey: tlsPublicKeyFromPem(readFileSync(paths.nodeTlsKey, "utf8")),
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + days * 24 * 3600_000),
    });
    writeFileSync(paths.nodeCert, certificateToPem(der));
    const c = parseCertificate(der);
    out(
      o.json,
      { nodeId: c.subject.cn, org: c.subject.org, notAfter: c.notAfter.toISOString(), cert: paths.nodeCert },
      `issued ${paths.nodeCert}\n  node:   ${c.subject.cn}\n  org:    ${c.subject.org}\n  until:  ${c.notAfter.toISOString()}\nSet p2p.enabled, p2p.nodeId "${c.subject.cn}" and p2p.peers in config.json.`,
    );
  });

nodeCert
  .command("show")
  .description("show the node certificate and check it against the organizations of genesis")
  .addOption(homeOption())
  .option("--json", "print JSON")
  .action((o) => {
    const paths = homePaths(o.home);
    const genesis = readGenesisFile(paths.genesis);
    const suite = getSuite(genesis.suite);
    const der = certificateFromPem(readFileSync(paths.nodeCert, "utf8"));
    const c = parseCertificate(der);
    const check = verifyNodeCertificate(der, {
      suite,
      orgRoots: new Map(genesis.orgs.map((g) => [g.id, g.rootPublicKey])),
      now: new Date(),
    });
    const info = {
      nodeId: c.subject.cn,
      org: c.subject.org,
      notBefore: c.notBefore.toISOString(),
      notAfter: c.notAfter.toISOString(),
      signatureAlgorithm: c.signatureAlgorithm,
      valid: check.ok,
      problem: check.ok ? null : `${check.code}: ${check.message}`,
    };
    out(
      o.json,
      info,
      `node ${info.nodeId} of ${info.org}, ${info.notBefore} .. ${info.notAfter}\n${check.ok ? "chains to its organization's root key in genesis" : `INVALID ${info.problem}`}`,
    );
  });

const keys = program.command("keys").description("account keys (PKCS#8 PEM files under <home>/keys)");
keys
  .command("new <name>")
  .description("create a key pair")
  .addOption(homeOption())
  .addOption(suiteOption())
  .option("--json", "print JSON")
  .action((name: string, o) => {
    const suite = getSuite(o.suite as SuiteId);
    const kp = suite.generateKeyPair();
    const path = homePaths(o.home).key(name);
    writePrivateKey(suite, path, kp.privateKey);
    const address = toHex(suite.hash(kp.publicKey).subarray(0, 20));
    out(
      o.json,
      { name, suite: suite.id, publicKey: toHex(kp.publicKey), address, path },
      `${name}: ${suite.id} key\n  public key: ${toHex(kp.publicKey)}\n  address:    ${address}\n  file:       ${path}`,
    );
  });
keys
  .command("show <name>")
  .description("show a key's public key and address")
  .addOption(homeOption())
  .addOption(suiteOption())
  .option("--json", "print JSON")
  .action((name: string, o) => {
    const suite = getSuite(suiteOf(o.home, o.suite));
    const signer = new Signer(suite, readPrivateKey(suite, homePaths(o.home).key(name)));
    out(
      o.json,
      { name, suite: suite.id, publicKey: toHex(signer.publicKey), address: signer.addressHex },
      `${name}: ${toHex(signer.publicKey)} (address ${signer.addressHex})`,
    );
  });
keys
  .command("list")
  .description("list key files")
  .addOption(homeOption())
  .option("--json", "print JSON")
  .action((o) => {
    const dir = homePaths(o.home).keys;
    const names = existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith(".pem"))
          .map((f) => f.slice(0, -4))
      : [];
    out(o.json, names, names.join("\n"));
  });

/** The suite of the chain whose home this is, else the given default. */
function suiteOf(home: string, fallback: SuiteId): SuiteId {
  const g = homePaths(home).genesis;
  return existsSync(g) ? readGenesisFile(g).suite : fallback;
}

const tx = program.command("tx").description("transactions");
tx.command("send")
  .description("sign and submit a transaction")
  .requiredOption("--module <name>", "module, e.g. attest")
  .requiredOption("--call <name>", "call, e.g. record")
  .option("--args <json>", 'arguments as JSON; "0x…" strings are bytes', "{}")
  .option("--key <name>", "key name under <home>/keys, or a PEM file path", "admin")
  .option("--no-wait", "return before the transaction commits")
  .addOption(homeOption())
  .addOption(apiOption())
  .option("--json", "print JSON")
  .action(async (o) => {
    const { client, signer } = await signingClient(o);
    const args = parseJson(o.args, "--args");
    const r = await client.send(
      signer,
      { module: o.module, call: o.call, args: jsonToCbor(args) },
      { wait: o.wait },
    );
    out(
      o.json,
      r,
      r.status === "committed"
        ? `committed at height ${r.height}: ${r.id} → ${r.receipt?.code}`
        : `pending: ${r.id}`,
    );
    if (r.receipt && r.receipt.status !== "ok") process.exitCode = 3;
  });

program
  .command("query <key>")
  .description("read a state key (e.g. acct/<address>) and verify its proof and commit certificate")
  .option("--height <h>", "a past height")
  .addOption(homeOption())
  .addOption(apiOption())
  .option("--json", "print JSON")
  .action(async (key: string, o) => {
    const client = clientFor(o);
    const v = await client.queryVerified(key, o.height ? Number(o.height) : undefined);
    const value = v.value === null ? null : cborToJson(safeDecode(v.value));
    out(
      o.json,
      { key, height: v.height, verified: true, value },
      `${key} @ ${v.height} (proof and commit verified)\n${JSON.stringify(value, null, 2)}`,
    );
  });

function safeDecode(b: Uint8Array): unknown {
  try {
    return decode(b);
  } catch {
    try {
      return fromUtf8(b);
    } catch {
      return `0x${toHex(b)}`;
    }
  }
}

program
  .command("status")
  .description("chain id, height, latest block, validators")
  .addOption(apiOption())
  .option("--json", "print JSON")
  .action(async (o) => {
    const s = await new ZlClient(o.api).status();
    out(o.json, s, `chain ${s.chainId} (${s.suite}) at height ${s.height}, block ${s.latestBlockHash}`);
  });

program
  .command("bench")
  .description(
    "benchmark committed tx/s and submit-to-commit latency: a durable single-validator node, or --nodes N validator processes running Tendermint",
  )
  .addOption(suiteOption())
  .option("--nodes <list>", "validator processes, e.g. 4 or 4,7,10 (default: one single-validator node)")
  .option("--txs <n>", "transactions to send", "40000")
  .option("--senders <n>", "distinct sender accounts", "200")
  .option(
    "--warmup <n>",
    "first send this many transactions, unmeasured, so that the nodes' code is compiled and their caches filled as in a node that has been running",
    "0",
  )
  .option(
    "--latency-base <tx/s>",
    "pace the latency levels as shares of this rate instead of the measured throughput, to compare runs at the same offered load",
  )
  .option("--json", "print one JSON object")
  .action(async (o) => {
    const sizes: number[] = o.nodes ? String(o.nodes).split(",").map(Number) : [0];
    if (sizes.some((n) => !Number.isSafeInteger(n) || n < 0 || n > 32))
      throw new ZlError("BENCH_BAD_NODES", "--nodes takes validator counts 1..32, comma-separated");
    requireCounts({
      "--txs": o.txs,
      "--senders": o.senders,
      ...(o.latencyBase === undefined ? {} : { "--latency-base": o.latencyBase }),
    });
    const warmup = Number(o.warmup);
    if (!Number.isSafeInteger(warmup) || warmup < 0)
      throw new ZlError("BENCH_BAD_COUNT", `--warmup takes a whole number, not "${o.warmup}"`);
    const results = [];
    for (const nodes of sizes) {
      const r = await runBench({
        suite: o.suite,
        nodes,
        txs: Number(o.txs),
        senders: Number(o.senders),
        warmupTxs: warmup,
        ...(o.latencyBase === undefined ? {} : { latencyBaseTps: Number(o.latencyBase) }),
        log: o.json ? () => {} : (m) => console.error(m),
      });
      results.push(r);
      if (!o.json)
        console.log(
          [
            `${r.bench === "network" ? `${r.nodes} validators` : "single validator"}, suite ${r.suite}: ${r.committed}/${r.txs} transactions committed at ${r.tps.toFixed(0)} tx/s (saturated; p50 ${r.saturated_p50_ms.toFixed(0)} ms, p99 ${r.saturated_p99_ms.toFixed(0)} ms)`,
            ...r.latency_by_load.map(
              (l) =>
                `latency at ${l.load_tps.toFixed(0)} tx/s offered: p50 ${l.p50_ms.toFixed(1)} ms, p99 ${l.p99_ms.toFixed(1)} ms`,
            ),
            `CPU per committed transaction: ${r.node_cpu_us_per_tx === null ? "n/a" : r.node_cpu_us_per_tx.toFixed(0)} µs in the node processes, ${r.client_cpu_us_per_tx.toFixed(0)} µs in the load generator`,
            `raw signature verification on one core: ${r.sig_verify_per_s.toFixed(0)}/s with new keys, ${r.sig_verify_warm_per_s.toFixed(0)}/s with known keys`,
          ].join("\n"),
        );
    }
    if (o.json) {
      const first = results[0]!;
      const scaling = results.map((r) => ({
        nodes: r.nodes,
        committed: r.committed,
        duration_s: r.duration_s,
        tps: r.tps,
        p50_ms: r.p50_ms,
        p99_ms: r.p99_ms,
        saturated_p50_ms: r.saturated_p50_ms,
        node_cpu_us_per_tx: r.node_cpu_us_per_tx,
        client_cpu_us_per_tx: r.client_cpu_us_per_tx,
        latency_by_load: r.latency_by_load,
      }));
      console.log(JSON.stringify(results.length > 1 ? { ...first, scaling } : first, null, 2));
    }
  });

/** Benchmark options that count something: each must be a positive whole number. */
function requireCounts(options: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(options)) {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1)
      throw new ZlError("BENCH_BAD_COUNT", `${name} takes a positive whole number, not "${value}"`);
  }
}

registerLicenseCommands(program); // `zl license …` and `zl bench licenses`

// `zl bench block`; like `zl bench licenses`, its options follow the word `block`.
program.commands
  .find((c) => c.name() === "bench")!
  .command("block")
  .description(
    "benchmark the block path in one process: µs of main-thread time per transaction to decode, execute, build and commit a block to LevelDB",
  )
  .addOption(suiteOption())
  .option("--block-txs <n>", "transactions per block", "4000")
  .option("--blocks <n>", "blocks to time", "10")
  .option("--json", "print one JSON object")
  .action(async (o) => {
    requireCounts({ "--block-txs": o.blockTxs, "--blocks": o.blocks });
    const r = await runBlockPathBench({
      suite: o.suite,
      blockTxs: Number(o.blockTxs),
      blocks: Number(o.blocks),
    });
    out(
      !!o.json,
      r,
      `suite ${r.suite}, ${r.blocks} blocks of ${r.block_txs}: per transaction (medians) decode ${r.decode_us_per_tx.toFixed(1)} µs, build and execute ${r.prepare_us_per_tx.toFixed(1)} µs, commit ${r.commit_sync_us_per_tx.toFixed(1)} µs on the main thread (${r.commit_total_us_per_tx.toFixed(1)} µs until durable); process CPU ${r.cpu_us_per_tx.toFixed(1)} µs`,
    );
  });
registerEvidenceCommands(program); // `zl evidence list | report`

export async function main(argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err: unknown) {
    if (err instanceof ZlError) {
      console.error(`error ${err.code}: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
}
