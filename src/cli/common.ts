/** What every `zl` command shares: output, the --home and --api options, clients and keys. */
import { existsSync } from "node:fs";
import { Option } from "commander";
import type { CryptoSuite } from "../crypto/suite.js";
import { ZlError } from "../errors/index.js";
import type { Genesis } from "../ledger/genesis.js";
import { homePaths, readGenesisFile, readPrivateKey } from "../node/home.js";
import { ZlClient } from "../sdk/client.js";
import { Signer } from "../sdk/signer.js";

/** Prints `value` as JSON with --json, else the human text. */
export const out = (json: boolean, value: unknown, text: string) =>
  console.log(json ? JSON.stringify(value, null, 2) : text);

export const homeOption = (def = ".zl/node") =>
  new Option("--home <dir>", "node home directory (genesis, keys)").default(def);
export const apiOption = () =>
  new Option("--api <url>", "node API address").default("http://127.0.0.1:26657");

/** The genesis to trust: --genesis, else the home's, else none (trust on first use). */
export function genesisOf(o: { home: string; genesis?: string }): Genesis | undefined {
  const path = o.genesis ?? homePaths(o.home).genesis;
  return o.genesis || existsSync(path) ? readGenesisFile(path) : undefined;
}

export function clientFor(o: { api: string; home: string; genesis?: string }): ZlClient {
  const g = genesisOf(o);
  return new ZlClient(o.api, g ? { genesis: g } : {});
}

/** A key by name under <home>/keys, or a path to a PEM file. */
export function keyFile(home: string, key: string): string {
  return key.includes("/") || key.endsWith(".pem") ? key : homePaths(home).key(key);
}

export function signerFor(suite: CryptoSuite, home: string, key: string): Signer {
  return new Signer(suite, readPrivateKey(suite, keyFile(home, key)));
}

/** A client of --api and the signer of --key, in the chain's suite: what every sending command needs. */
export async function signingClient(o: { api: string; home: string; genesis?: string; key: string }) {
  const client = clientFor(o);
  const suite = await client.suite();
  return { client, suite, signer: signerFor(suite, o.home, o.key) };
}

export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ZlError("CLI_BAD_ARGS", `${what} must be valid JSON`);
  }
}
