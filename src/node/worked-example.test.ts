/**
 * The worked example of docs/protocol.md §12, recomputed by the code: if an encoding or hash rule
 * changes, this test fails until the document is regenerated (the hex there was also checked
 * independently with Python's hashlib).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { getSuite } from "../crypto/index.js";
import { ModuleRegistry } from "../execution/engine.js";
import { encodeCommit, encodeHeader, VOTE_PRECOMMIT, voteSignBytes } from "../ledger/block.js";
import { toHex, utf8 } from "../ledger/bytes.js";
import { encodeGenesis, parseGenesis } from "../ledger/genesis.js";
import { addressOf, signTx } from "../ledger/tx.js";
import { silentLogger } from "../log/logger.js";
import { nativeModules } from "../modules/index.js";
import { encodeProof } from "../state/proof.js";
import { ChainStore } from "../storage/chain-store.js";
import { Chain } from "./chain.js";

test("docs/protocol.md §12 worked example (intl) is what the code computes", async () => {
  const s = getSuite("intl");
  const adminSeed = new Uint8Array(32).fill(0x11);
  const validatorSeed = new Uint8Array(32).fill(0x22);
  const adminPub = s.publicKeyFromPrivate(adminSeed);
  const validatorPub = s.publicKeyFromPrivate(validatorSeed);
  const genesis = parseGenesis(
    {
      chainId: "zl-example",
      suite: "intl",
      genesisTime: "2026-01-01T00:00:00.000Z",
      orgs: [
        {
          id: "market",
          name: "Market Regulation",
          code: "11100000000000000X",
          rootPublicKey: toHex(adminPub),
        },
      ],
      validators: [{ publicKey: toHex(validatorPub), power: 10, org: "market" }],
    },
    (id) => getSuite(id).publicKeyLength,
  );
  assert.equal(
    toHex(s.hash(encodeGenesis(genesis))),
    "61cb66d7d5769a3106ef4c9b8445ccdf9b1dcde17ff0e25b234f468cb33146f5",
  );
  const dir = mkdtempSync(join(tmpdir(), "zl-worked-"));
  const store = new ChainStore(dir);
  await store.open();
  try {
    const chain = new Chain(store, s, genesis, new ModuleRegistry(nativeModules()), silentLogger());
    await chain.init();
    assert.equal(
      toHex(chain.head().stateRoot),
      "25a57dae59417b70e4e42ae9bf7f9deebdffee388966bb9e590da5336196487e",
    );
    const tx = signTx(s, adminSeed, {
      chainId: "zl-example",
      sender: adminPub,
      nonce: 0,
      expiry: 100,
      module: "attest",
      call: "record",
      args: {
        digest: new Uint8Array(createHash("sha256").update("hello").digest()),
        kind: "contract",
        provenance: { system: "qyxx", generatedAt: 1767225600000, method: "scan" },
      },
    });
    assert.equal(toHex(tx.id), "04283a7711c799a3afbe6c2ebf4f260a03ac5520a77f65d77dcac74b8a5158d2");
    const p = chain.prepareBlock([tx], 1767225601000, addressOf(s, validatorPub));
    assert.equal(
      toHex(p.block.header.stateRoot),
      "95516733278b7ef7e36089e5c7ba975d0d16468204ddc8d45fbc84e27803c054",
    );
    assert.equal(toHex(s.hash(encodeHeader(p.block.header))), toHex(p.hash));
    assert.equal(toHex(p.hash), "1a91dfee92fcafaec28b32e0f43f5f45187896d66e61118ef8746f08ba09e89a");
    const signature = s.sign(validatorSeed, voteSignBytes("zl-example", VOTE_PRECOMMIT, 1, 0, p.hash));
    const commit = { height: 1, round: 0, blockHash: p.hash, signatures: [{ validatorIndex: 0, signature }] };
    assert.equal(
      toHex(encodeCommit(commit)),
      "84010058201a91dfee92fcafaec28b32e0f43f5f45187896d66e61118ef8746f08ba09e89a8182005840ae97ce5ecb53937040ea8798658371a468d877042b841f9987da72eb30b5e60c19de1523c4aef78cd6e43988cdc67878585743a4b7a696aa1aca7f793f80db0c",
    );
    await chain.commit(p, commit);
    const proof = chain.stateAt(utf8(`nonce/${toHex(addressOf(s, adminPub))}`), 1).proof;
    assert.equal(
      toHex(encodeProof(proof)),
      "a2646c656166a2676b657948617368582090b270d2ad009b99c9c9afa5bd5fbcfd071e7aa6d0099ecbb5d5c2af1e038fb46976616c75654861736858204bf5122f344554c53bde2ebb8cd2b7e3d1600ad631c385a5d7cce23c7785459a687369626c696e677381582034fe030ab6b92ced59f697c2171e18439396b2f2e210a272a7ebff9a7c8bf439",
    );
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
