/** Test support: an in-memory state with a genesis of two organizations, for execution tests. */
import { getSuite } from "../crypto/index.js";
import type { SuiteId } from "../crypto/suite.js";
import type { DecodedTx } from "../ledger/tx.js";
import { nativeModules } from "../modules/index.js";
import { Signer } from "../sdk/signer.js";
import { executeBlock, ModuleRegistry } from "./engine.js";
import { genesisState } from "./genesis-state.js";
import type { BlockContext } from "./module.js";
import type { StateReader } from "./state-view.js";

export class MemoryState implements StateReader {
  readonly map = new Map<string, Uint8Array>();
  get(key: Uint8Array): Uint8Array | undefined {
    return this.map.get(Buffer.from(key).toString("latin1"));
  }
  apply(changes: Array<{ key: Uint8Array; value: Uint8Array | null }>): void {
    for (const { key, value } of changes) {
      const k = Buffer.from(key).toString("latin1");
      if (value === null) this.map.delete(k);
      else this.map.set(k, value);
    }
  }
}

export function testChain(suiteId: SuiteId) {
  const suite = getSuite(suiteId);
  const adminA = Signer.generate(suite);
  const adminB = Signer.generate(suite);
  const validatorKey = suite.generateKeyPair();
  const validator = new Signer(suite, validatorKey.privateKey);
  const state = new MemoryState();
  state.apply(
    genesisState(suite, {
      orgs: [
        { id: "market", name: "市场监督管理局", code: "11100000000000000X", rootPublicKey: adminA.publicKey },
        { id: "tax", name: "税务局", code: "11100000000000001X", rootPublicKey: adminB.publicKey },
      ],
      validators: [{ publicKey: validator.publicKey, power: 10, org: "market" }],
    }),
  );
  const registry = new ModuleRegistry(nativeModules());
  let height = 1;
  const nonces = new Map<string, number>();
  const chainId = "zl-test";
  return {
    suite,
    state,
    registry,
    adminA,
    adminB,
    /** The genesis validator (organization "market"): its key pair, and a signer of transactions. */
    validatorKey,
    validator,
    chainId,
    ctx(): BlockContext {
      return { chainId, height, time: 1_700_000_000_000 + height, suite };
    },
    tx(
      signer: Signer,
      module: string,
      call: string,
      args: import("../codec/cbor.js").CborValue,
      over: Partial<{ nonce: number; expiry: number; chainId: string }> = {},
    ): DecodedTx {
      const n = over.nonce ?? nonces.get(signer.addressHex) ?? 0;
      nonces.set(signer.addressHex, n + 1);
      return signer.sign(over.chainId ?? chainId, {
        module,
        call,
        args,
        nonce: n,
        expiry: over.expiry ?? 1000,
      });
    },
    /** Executes a block and applies its changes. */
    run(txs: DecodedTx[]) {
      const r = executeBlock(state, this.ctx(), registry, txs);
      state.apply(r.state.changes());
      height++;
      return r;
    },
  };
}
