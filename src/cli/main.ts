/**
 * `zl` — the ZhengLian command line: init, start, dev, keys, tx send, query, status, bench.
 * Every command takes `--json` to print one machine-readable JSON document.
 */
import { existsSync, readdirSync } from "node:fs";
import { Command, Option } from "commander";
import { serveApi } from "../api/server.js";
import { runBench } from "../bench/single-node.js";
import { decode } from "../codec/cbor.js";
import { getSuite } from "../crypto/index.js";
import { SUITE_IDS, type SuiteId } from "../crypto/suite.js";
import { ZlError } from "../errors/index.js";
import { fromUtf8, toHex } from "../ledger/bytes.js";
import { homePaths, readGenesisFile, readPrivateKey, writePrivateKey } from "../node/home.js";
import { ZlNode } from "../node/node.js";
import { cborToJson, jsonToCbor } from "../sdk/args.js";
import { ZlClient } from "../sdk/client.js";
import { Signer } from "../sdk/signer.js";
import { initHome } from "./init.js";
import { registerLicenseCommands } from "./license.js";

const program = new Command();
program.name("zl").description("ZhengLian (政链) consortium blockchain node and tools").showHelpAfterError();

const out = (json: boolean, value: unknown, text: string) =>
  console.log(json ? JSON.stringify(value, null, 2) : text);

const suiteOption = () =>
  new Option("--suite <suite>", "crypto suite: intl or gm").choices(SUITE_IDS as string[]).default("intl");
const homeOption = (def = ".zl/node") => new Option("--home <dir>", "node home directory").default(def);
const apiOption = () => new Option("--api <url>", "node API address").default("http://127.0.0.1:26657");

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

function clientFor(o: { api: string; home: string }): ZlClient {
  const g = homePaths(o.home).genesis;
  return new ZlClient(o.api, existsSync(g) ? { genesis: readGenesisFile(g) } : {});
}

const tx = program.command("tx").description("transactions");
tx.command("send")
  .description("sign and submit a transaction")
  .requiredOption("--module <name>", "module, e.g. attest")
  .requiredOption("--call <name>", "call, e.g. record")
  .option("--args <json>", 'arguments as JSON; "0x…" strings are bytes', "{}")
  .option("--key <name>", "key file name under <home>/keys", "admin")
  .option("--no-wait", "return before the transaction commits")
  .addOption(homeOption())
  .addOption(apiOption())
  .option("--json", "print JSON")
  .action(async (o) => {
    const client = clientFor(o);
    const suite = await client.suite();
    const signer = new Signer(suite, readPrivateKey(suite, homePaths(o.home).key(o.key)));
    let args: unknown;
    try {
      args = JSON.parse(o.args);
    } catch {
      throw new ZlError("CLI_BAD_ARGS", "--args must be valid JSON");
    }
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
  .description("benchmark a durable single-validator node: committed tx/s and submit-to-commit latency")
  .addOption(suiteOption())
  .option("--txs <n>", "transactions to send", "40000")
  .option("--senders <n>", "distinct sender accounts", "200")
  .option("--json", "print one JSON object")
  .action(async (o) => {
    const r = await runBench({
      suite: o.suite,
      txs: Number(o.txs),
      senders: Number(o.senders),
      log: o.json ? () => {} : (m) => console.error(m),
    });
    out(
      o.json,
      r,
      [
        `suite ${r.suite}: ${r.committed}/${r.txs} transactions committed at ${r.tps.toFixed(0)} tx/s (saturated; p50 ${r.saturated_p50_ms.toFixed(0)} ms, p99 ${r.saturated_p99_ms.toFixed(0)} ms)`,
        `latency at ${r.latency_load_tps.toFixed(0)} tx/s offered: p50 ${r.p50_ms.toFixed(1)} ms, p99 ${r.p99_ms.toFixed(1)} ms`,
        `raw signature verification on one core: ${r.sig_verify_per_s.toFixed(0)}/s`,
      ].join("\n"),
    );
  });

registerLicenseCommands(program); // `zl license …` and `zl bench licenses`

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
