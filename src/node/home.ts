/**
 * A node's home directory:
 *   genesis.json            the chain's genesis (identical on every node)
 *   config.json             this node's settings
 *   keys/validator.pem      this node's validator key (PKCS#8), if it validates
 *   keys/<name>.pem         account keys created by `zl keys new` or `zl init`
 *   data/                   the LevelDB store
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { getSuite } from "../crypto/index.js";
import type { CryptoSuite, SuiteId } from "../crypto/suite.js";
import { InvalidInputError } from "../errors/index.js";
import { type Genesis, parseGenesis } from "../ledger/genesis.js";

export const homePaths = (dir: string) => ({
  dir,
  genesis: join(dir, "genesis.json"),
  config: join(dir, "config.json"),
  keys: join(dir, "keys"),
  data: join(dir, "data"),
  key: (name: string) => join(dir, "keys", `${name}.pem`),
  /** The node's TLS key (Ed25519, PKCS#8) and its certificate issued by its organization. */
  nodeTlsKey: join(dir, "keys", "node-tls.pem"),
  nodeCert: join(dir, "node-cert.pem"),
  consensus: join(dir, "data", "consensus"),
});

export function readGenesisFile(path: string): Genesis {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new InvalidInputError("GENESIS_MISSING", `no genesis at ${path}; run \`zl init\` first`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err: unknown) {
    throw new InvalidInputError("GENESIS_INVALID", `${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseGenesis(json, (id: SuiteId) => getSuite(id).publicKeyLength);
}

/** Writes a private key as PKCS#8 PEM readable only by the owner. */
export function writePrivateKey(suite: CryptoSuite, path: string, privateKey: Uint8Array): void {
  mkdirSync(join(path, ".."), { recursive: true });
  if (existsSync(path))
    throw new InvalidInputError("KEY_EXISTS", `${path} already exists; refusing to overwrite a key`);
  writeFileSync(path, suite.privateKeyToPem(privateKey), { mode: 0o600 });
  chmodSync(path, 0o600);
}

export function readPrivateKey(suite: CryptoSuite, path: string): Uint8Array {
  let pem: string;
  try {
    pem = readFileSync(path, "utf8");
  } catch {
    throw new InvalidInputError("KEY_MISSING", `no key file at ${path}`);
  }
  return suite.privateKeyFromPem(pem);
}
