/** `zl init`: creates a node home with genesis, config and keys for a new single-node chain. */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { getSuite } from "../crypto/index.js";
import type { SuiteId } from "../crypto/suite.js";
import { InvalidInputError } from "../errors/index.js";
import { toHex } from "../ledger/bytes.js";
import { DEFAULT_PARAMS, type GenesisJson } from "../ledger/genesis.js";
import { DEFAULT_CONFIG, type NodeConfig } from "../node/config.js";
import { homePaths, writePrivateKey } from "../node/home.js";

export interface InitOptions {
  home: string;
  suite: SuiteId;
  chainId: string;
  orgId: string;
  orgName: string;
  orgCode: string;
  port: number;
  config?: Partial<NodeConfig>;
}

export function initHome(o: InitOptions): { genesis: GenesisJson; adminAddress: string } {
  const paths = homePaths(o.home);
  if (existsSync(paths.genesis))
    throw new InvalidInputError("HOME_EXISTS", `${paths.genesis} exists; this home is already initialised`);
  const suite = getSuite(o.suite);
  mkdirSync(paths.keys, { recursive: true });
  const validator = suite.generateKeyPair();
  const admin = suite.generateKeyPair();
  writePrivateKey(suite, paths.key("validator"), validator.privateKey);
  writePrivateKey(suite, paths.key("admin"), admin.privateKey);
  const genesis: GenesisJson = {
    chainId: o.chainId,
    suite: o.suite,
    genesisTime: new Date().toISOString(),
    params: { ...DEFAULT_PARAMS },
    orgs: [{ id: o.orgId, name: o.orgName, code: o.orgCode, rootPublicKey: toHex(admin.publicKey) }],
    validators: [{ publicKey: toHex(validator.publicKey), power: 10, org: o.orgId }],
  };
  writeFileSync(paths.genesis, `${JSON.stringify(genesis, null, 2)}\n`);
  const config: NodeConfig = { ...DEFAULT_CONFIG, ...o.config, api: { ...DEFAULT_CONFIG.api, port: o.port } };
  writeFileSync(paths.config, `${JSON.stringify(config, null, 2)}\n`);
  return { genesis, adminAddress: toHex(suite.hash(admin.publicKey).subarray(0, 20)) };
}
