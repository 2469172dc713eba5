/**
 * Test support: a chain of N member organizations with chosen governance parameters, built like
 * src/execution/test-chain.ts (same MemoryState, genesis state and registry). Each block's
 * result is kept, and the state after each height can be read back.
 */
import type { CborValue } from "../../codec/cbor.js";
import { getSuite } from "../../crypto/index.js";
import type { CryptoSuite, SuiteId } from "../../crypto/suite.js";
import { type BlockResult, executeBlock, ModuleRegistry } from "../../execution/engine.js";
import { genesisState } from "../../execution/genesis-state.js";
import type { BlockContext } from "../../execution/module.js";
import { MemoryState } from "../../execution/test-chain.js";
import { toHex } from "../../ledger/bytes.js";
import { DEFAULT_PARAMS } from "../../ledger/genesis.js";
import type { DecodedTx } from "../../ledger/tx.js";
import type { Validator } from "../../ledger/validators.js";
import { Signer } from "../../sdk/signer.js";
import { nativeModules } from "../index.js";
import { readValidators } from "./state.js";

export const ORG_IDS = ["market", "tax", "health", "edu", "police", "civil"];
export const orgCode = (i: number) => `111000000000000${String(i).padStart(2, "0")}X`;

export interface GovChainOptions {
  orgs: number;
  /** Validators per organization, by index (default: one for each organization). */
  validatorsOf?: number[];
  votingBlocks?: number;
  delay?: number;
  /** Chain param licenseTypesByVote (default false). */
  licenseTypesByVote?: boolean;
}

export function govChain(suiteId: SuiteId, opts: GovChainOptions) {
  const suite = getSuite(suiteId);
  const ids = ORG_IDS.slice(0, opts.orgs);
  const admins = ids.map(() => Signer.generate(suite));
  const validatorKeys: Signer[] = [];
  const validators: Validator[] = [];
  ids.forEach((org, i) => {
    for (let n = 0; n < (opts.validatorsOf?.[i] ?? 1); n++) {
      const k = Signer.generate(suite);
      validatorKeys.push(k);
      validators.push({ publicKey: k.publicKey, power: 10, org });
    }
  });
  const state = new MemoryState();
  state.apply(
    genesisState(suite, {
      orgs: ids.map((id, i) => ({
        id,
        name: `部门${i}`,
        code: orgCode(i),
        rootPublicKey: admins[i]!.publicKey,
      })),
      validators,
    }),
  );
  const registry = new ModuleRegistry(nativeModules());
  const params = {
    ...DEFAULT_PARAMS,
    governanceVotingBlocks: opts.votingBlocks ?? DEFAULT_PARAMS.governanceVotingBlocks,
    validatorChangeDelay: opts.delay ?? DEFAULT_PARAMS.validatorChangeDelay,
    licenseTypesByVote: opts.licenseTypesByVote ?? DEFAULT_PARAMS.licenseTypesByVote,
  };
  const chainId = "zl-gov-test";
  const nonces = new Map<string, number>();
  const results: BlockResult[] = [];
  /** Validator set after each height (index 0: genesis). */
  const setAfter: Validator[][] = [readValidators(state)];
  let height = 1;
  return {
    suite,
    state,
    registry,
    ids,
    admins,
    validatorKeys,
    params,
    setAfter,
    results,
    get height() {
      return height;
    },
    ctx(): BlockContext {
      return { chainId, height, time: 1_700_000_000_000 + height, suite, params };
    },
    tx(signer: Signer, module: string, call: string, args: CborValue): DecodedTx {
      const n = nonces.get(signer.addressHex) ?? 0;
      nonces.set(signer.addressHex, n + 1);
      return signer.sign(chainId, { module, call, args, nonce: n, expiry: 100_000 });
    },
    propose(signer: Signer, action: CborValue): DecodedTx {
      return this.tx(signer, "governance", "propose", { action });
    },
    vote(signer: Signer, id: number, approve = true): DecodedTx {
      return this.tx(signer, "governance", "vote", { id, approve });
    },
    /** Executes the next block and applies its changes. */
    run(txs: DecodedTx[] = []): BlockResult {
      const r = executeBlock(state, this.ctx(), registry, txs);
      state.apply(r.state.changes());
      results.push(r);
      setAfter.push(readValidators(state));
      height++;
      return r;
    },
    /** Runs empty blocks until the next block to run is `h`. */
    runTo(h: number): void {
      while (height < h) this.run();
    },
  };
}

export type GovChain = ReturnType<typeof govChain>;

/** A minimal genesis document (one organization, one validator), to test `parseGenesis` params. */
export function minimalGenesisJson(suite: CryptoSuite) {
  return {
    chainId: "zl-x",
    suite: suite.id,
    genesisTime: "2024-01-01T00:00:00Z",
    orgs: [
      { id: "market", name: "m", code: orgCode(0), rootPublicKey: toHex(Signer.generate(suite).publicKey) },
    ],
    validators: [{ publicKey: toHex(Signer.generate(suite).publicKey), power: 1, org: "market" }],
  };
}
