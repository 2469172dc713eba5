/**
 * Light-client verification (docs/light-client.md): the sequential and skipping rules on
 * synthetic chains signed with real keys of both suites, with a real state trie behind every
 * stateRoot; every forbidden path by its code; and a light client following a real node.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { getSuite } from "../crypto/index.js";
import type { KeyPair, SuiteId } from "../crypto/suite.js";
import { encodeValidators, VALIDATORS_KEY } from "../execution/genesis-state.js";
import { blockHash, type Commit, type Header, VOTE_PRECOMMIT, voteSignBytes } from "../ledger/block.js";
import { utf8 } from "../ledger/bytes.js";
import { DEFAULT_PARAMS, encodeGenesis, type Genesis } from "../ledger/genesis.js";
import { type Validator, validatorsHash } from "../ledger/validators.js";
import { startTestNode, type TestNode } from "../node/test-node.js";
import { MemoryNodeStore } from "../state/memory-store.js";
import { StateTrie } from "../state/trie.js";
import {
  type LightCheck,
  LightClient,
  type LightDeps,
  type LightFetchers,
  type TrustedState,
  trustGenesis,
  trustHeader,
  verifyNextHeader,
  verifySkipping,
  verifyStateAgainst,
} from "./light-client.js";

const CHAIN = "zl-lc";
const HOUR = 3_600_000;

interface Member {
  key: KeyPair;
  v: Validator;
}

/**
 * A chain built in memory: block h executes by writing `counter = h` and, at a change height,
 * the new validator set under VALIDATORS_KEY; every header is signed by all of its set.
 */
class SynthChain {
  readonly deps: LightDeps;
  readonly pool: KeyPair[];
  readonly genesis: Genesis;
  readonly headers: Header[] = [];
  readonly commits: Commit[] = [];
  /** sets[h]: the set that signs block h (sets[1] = genesis set). */
  readonly sets: Member[][] = [];
  private readonly store = new MemoryNodeStore();
  private readonly trie: StateTrie;
  private readonly rootKeys: Array<Uint8Array | null> = [];

  constructor(
    readonly suiteId: SuiteId,
    powers: number[],
    /** height → the set block `height` writes, as [pool index, power] pairs. */
    private readonly changes: Record<number, Array<[number, number]>> = {},
  ) {
    const suite = getSuite(suiteId);
    this.deps = { hash: (d) => suite.hash(d), verify: (p, m, s) => suite.verify(p, m, s) };
    this.trie = new StateTrie(this.deps.hash, this.store);
    this.pool = Array.from({ length: 8 }, () => suite.generateKeyPair());
    const first = powers.map((power, i) => this.member(i, power));
    this.genesis = {
      chainId: CHAIN,
      suite: suiteId,
      genesisTime: Date.now() - HOUR,
      params: DEFAULT_PARAMS,
      orgs: [
        { id: "org0", name: "测试局", code: "11100000000000000X", rootPublicKey: this.pool[0]!.publicKey },
      ],
      validators: first.map((m) => m.v),
    };
    this.apply(0, [{ key: VALIDATORS_KEY, value: encodeValidators(this.genesis.validators) }]);
    this.sets[1] = first;
  }

  member(index: number, power: number): Member {
    const key = this.pool[index]!;
    return { key, v: { publicKey: key.publicKey, power, org: `org${index}` } };
  }

  private apply(height: number, changes: Array<{ key: Uint8Array; value: Uint8Array }>): void {
    const up = this.trie.update(this.rootKeys[height - 1] ?? null, height, changes);
    this.store.apply(up, height);
    this.rootKeys[height] = up.rootNodeKey;
  }

  header(h: number): Header {
    return this.headers[h] as Header;
  }

  /** Builds blocks up to `n`. */
  extend(n: number): this {
    for (let h = this.headers.length || 1; h <= n; h++) {
      const set = this.sets[h] as Member[];
      const change = this.changes[h];
      const next = change ? change.map(([i, p]) => this.member(i, p)) : set;
      const writes = [{ key: utf8("counter"), value: utf8(String(h)) }];
      if (change) writes.push({ key: VALIDATORS_KEY, value: encodeValidators(next.map((m) => m.v)) });
      this.apply(h, writes);
      const prev =
        h === 1 ? this.deps.hash(encodeGenesis(this.genesis)) : blockHash(this.deps.hash, this.header(h - 1));
      const header: Header = {
        chainId: CHAIN,
        height: h,
        time: this.genesis.genesisTime + h * 1000,
        prevHash: prev,
        txRoot: new Uint8Array(32),
        resultsRoot: new Uint8Array(32),
        stateRoot: this.trie.rootHash(this.rootKeys[h] ?? null),
        validatorsHash: this.vh(set),
        nextValidatorsHash: this.vh(next),
        proposer: new Uint8Array(20),
        txCount: 0,
      };
      this.headers[h] = header;
      this.commits[h] = this.sign(
        header,
        set,
        set.map((_, i) => i),
      );
      this.sets[h + 1] = next;
    }
    return this;
  }

  vh(set: readonly Member[]): Uint8Array {
    return validatorsHash(
      this.deps.hash,
      set.map((m) => m.v),
    );
  }

  /** A commit over `header` by the members at `indices` of `set` (their index in the commit too). */
  sign(header: Header, set: readonly Member[], indices: number[], keys?: KeyPair[]): Commit {
    const suite = getSuite(this.suiteId);
    const hash = blockHash(this.deps.hash, header);
    const msg = voteSignBytes(header.chainId, VOTE_PRECOMMIT, header.height, 0, hash);
    return {
      height: header.height,
      round: 0,
      blockHash: hash,
      signatures: indices.map((i, k) => ({
        validatorIndex: i,
        signature: suite.sign((keys?.[k] ?? (set[i] as Member).key).privateKey, msg),
      })),
    };
  }

  /** VALIDATORS_KEY after block h, with its proof. */
  provenSet(h: number) {
    const rootKey = this.rootKeys[h] ?? null;
    return {
      encoded: this.trie.get(rootKey, VALIDATORS_KEY)!,
      proof: this.trie.prove(rootKey, VALIDATORS_KEY),
    };
  }

  prove(h: number, key: Uint8Array) {
    const rootKey = this.rootKeys[h] ?? null;
    return { value: this.trie.get(rootKey, key) ?? null, proof: this.trie.prove(rootKey, key) };
  }

  fetchers(): LightFetchers {
    return {
      signedHeader: async (h) => ({ header: this.header(h), commit: this.commits[h] as Commit }),
      provenValidators: async (h) => this.provenSet(h),
      signingValidators: async (h) => (this.sets[h] as Member[]).map((m) => m.v),
    };
  }
}

function code(r: LightCheck | { ok: true } | { ok: false; code: string }): string {
  return r.ok ? "OK" : r.code;
}

function ok(r: LightCheck): TrustedState {
  if (!r.ok) assert.fail(`${r.code}: ${r.message}`);
  return r.state;
}

/** Follows the chain sequentially from genesis to `to` with the pure function. */
function follow(c: SynthChain, to: number): TrustedState {
  let s = trustGenesis(c.deps.hash, c.genesis);
  for (let h = 1; h <= to; h++) {
    const header = c.header(h);
    const change = !Buffer.from(header.nextValidatorsHash).equals(header.validatorsHash);
    s = ok(verifyNextHeader(c.deps, s, header, c.commits[h] as Commit, change ? c.provenSet(h) : undefined));
  }
  return s;
}

/** A copy of `header` with `patch`, re-signed by its whole set: only the patch is wrong. */
function forge(c: SynthChain, h: number, patch: Partial<Header>): { header: Header; commit: Commit } {
  const header = { ...c.header(h), ...patch };
  const set = c.sets[h] as Member[];
  return {
    header,
    commit: c.sign(
      header,
      set,
      set.map((_, i) => i),
    ),
  };
}

for (const suiteId of ["intl", "gm"] as const) {
  describe(`light client, sequential rule (${suiteId})`, () => {
    // Block 3 replaces validator 3 by pool key 4; block 4 onwards is signed by the new set.
    const c = new SynthChain(suiteId, [1, 1, 1, 1], {
      3: [
        [0, 1],
        [1, 1],
        [2, 1],
        [4, 1],
      ],
    }).extend(6);

    it("follows headers across a validator-set change and proves state against them", () => {
      const s = follow(c, 6);
      assert.equal(s.height, 6);
      assert.deepEqual(
        s.validators.map((v) => v.publicKey),
        [0, 1, 2, 4].map((i) => c.pool[i]!.publicKey),
      );
      const { value, proof } = c.prove(6, utf8("counter"));
      assert.deepEqual(value, utf8("6"));
      assert.equal(code(verifyStateAgainst(c.deps.hash, s.header!, utf8("counter"), value, proof)), "OK");
      assert.equal(
        code(verifyStateAgainst(c.deps.hash, s.header!, utf8("counter"), utf8("5"), proof)),
        "LC_STATE_PROOF_INVALID",
      );
      const absent = c.prove(6, utf8("nothing"));
      assert.equal(absent.value, null);
      assert.equal(
        code(verifyStateAgainst(c.deps.hash, s.header!, utf8("nothing"), null, absent.proof)),
        "OK",
      );
    });

    it("LightClient.sync fetches the new set only at the change", async () => {
      const asked: number[] = [];
      const f = c.fetchers();
      const lc = new LightClient(c.deps, trustGenesis(c.deps.hash, c.genesis));
      const seen: number[] = [];
      const r = await lc.sync(
        {
          ...f,
          provenValidators: (h) => {
            asked.push(h);
            return f.provenValidators(h);
          },
        },
        6,
        (st) => seen.push(st.height),
      );
      assert.equal(code(r), "OK");
      assert.deepEqual(asked, [3]);
      assert.deepEqual(seen, [1, 2, 3, 4, 5, 6]);
      const { value, proof } = c.prove(6, utf8("counter"));
      assert.equal(code(lc.verifyState(utf8("counter"), value, proof)), "OK");
    });

    it("refuses a header of another chain, out of order, or not linked to the trusted one", () => {
      const s1 = follow(c, 1);
      const wrongChain = forge(c, 2, { chainId: "zl-other" });
      assert.equal(
        code(verifyNextHeader(c.deps, s1, wrongChain.header, wrongChain.commit)),
        "LC_WRONG_CHAIN",
      );
      assert.equal(code(verifyNextHeader(c.deps, s1, c.header(1), c.commits[1]!)), "LC_HEIGHT_NOT_NEWER");
      assert.equal(code(verifyNextHeader(c.deps, s1, c.header(3), c.commits[3]!)), "LC_NOT_ADJACENT");
      const unlinked = forge(c, 2, { prevHash: new Uint8Array(32).fill(7) });
      assert.equal(
        code(verifyNextHeader(c.deps, s1, unlinked.header, unlinked.commit)),
        "LC_PREV_HASH_MISMATCH",
      );
      const stale = forge(c, 2, { time: s1.time });
      assert.equal(code(verifyNextHeader(c.deps, s1, stale.header, stale.commit)), "LC_TIME_NOT_NEWER");
      // The commit must be over this very header.
      assert.equal(code(verifyNextHeader(c.deps, s1, c.header(2), c.commits[1]!)), "LC_COMMIT_INVALID");
    });

    it("refuses a validator set the trusted header did not hand over to", () => {
      const s1 = follow(c, 1);
      const other = [4, 5, 6, 7].map((i) => c.member(i, 1));
      const header = { ...c.header(2), validatorsHash: c.vh(other), nextValidatorsHash: c.vh(other) };
      const r = verifyNextHeader(c.deps, s1, header, c.sign(header, other, [0, 1, 2, 3]));
      assert.equal(code(r), "LC_VALIDATORS_HASH_MISMATCH");
    });

    it("needs the proven new set at a change, and refuses a forged one", () => {
      const s2 = follow(c, 2);
      const h3 = c.header(3);
      assert.equal(code(verifyNextHeader(c.deps, s2, h3, c.commits[3]!)), "LC_NEXT_SET_MISSING");
      const real = c.provenSet(3);
      const forged = [0, 1, 5, 6].map((i) => c.member(i, 1).v);
      // The forged set with the real proof: the proof does not lead to its bytes.
      assert.equal(
        code(verifyNextHeader(c.deps, s2, h3, c.commits[3]!, { validators: forged, proof: real.proof })),
        "LC_NEXT_SET_PROOF_INVALID",
      );
      // The forged set with a proof from another state (the forger's own trie).
      const store = new MemoryNodeStore();
      const trie = new StateTrie(c.deps.hash, store);
      const up = trie.update(null, 1, [{ key: VALIDATORS_KEY, value: encodeValidators(forged) }]);
      store.apply(up, 1);
      const own = { encoded: encodeValidators(forged), proof: trie.prove(up.rootNodeKey, VALIDATORS_KEY) };
      assert.equal(code(verifyNextHeader(c.deps, s2, h3, c.commits[3]!, own)), "LC_NEXT_SET_PROOF_INVALID");
      // The real bytes are accepted, in either form.
      assert.equal(code(verifyNextHeader(c.deps, s2, h3, c.commits[3]!, real)), "OK");
      const decoded = (c.sets[4] as Member[]).map((m) => m.v);
      assert.equal(
        code(verifyNextHeader(c.deps, s2, h3, c.commits[3]!, { validators: decoded, proof: real.proof })),
        "OK",
      );
    });

    it("refuses signatures of the removed validator after the change", () => {
      const s3 = follow(c, 3);
      const h4 = c.header(4);
      const newSet = c.sets[4] as Member[];
      // The removed validator (pool 3) signs in place of its successor (pool 4) at index 3.
      const withRemoved = c.sign(
        h4,
        newSet,
        [0, 1, 2, 3],
        [0, 1, 2, 3].map((i) => c.pool[i]!),
      );
      const r = verifyNextHeader(c.deps, s3, h4, withRemoved);
      assert.equal(code(r), "LC_COMMIT_INVALID");
      assert.equal(r.ok ? "" : r.reason, "COMMIT_BAD_SIGNATURE");
      // The old set re-signing block 4 as if nothing changed.
      const old = c.sets[3] as Member[];
      const header = { ...h4, validatorsHash: c.vh(old), nextValidatorsHash: c.vh(old) };
      const oldCommit = c.sign(header, old, [0, 1, 2, 3]);
      assert.equal(code(verifyNextHeader(c.deps, s3, header, oldCommit)), "LC_VALIDATORS_HASH_MISMATCH");
      // The three continuing validators alone still make a quorum of the new set.
      assert.equal(code(verifyNextHeader(c.deps, s3, h4, c.sign(h4, newSet, [0, 1, 2]))), "OK");
    });
  });
}

describe("light client, quorum threshold", () => {
  // Powers 1, 1, 2, 2 (total 6): 4 is exactly 2/3 and must not certify; 5 does.
  const c = new SynthChain("intl", [1, 1, 2, 2]).extend(1);
  const s0 = trustGenesis(c.deps.hash, c.genesis);
  const set = c.sets[1] as Member[];

  it("refuses a commit holding exactly 2/3 of the power", () => {
    const r = verifyNextHeader(c.deps, s0, c.header(1), c.sign(c.header(1), set, [2, 3]));
    assert.equal(code(r), "LC_COMMIT_INVALID");
    assert.equal(r.ok ? "" : r.reason, "COMMIT_NO_QUORUM");
  });

  it("accepts a commit holding more than 2/3", () => {
    assert.equal(code(verifyNextHeader(c.deps, s0, c.header(1), c.sign(c.header(1), set, [0, 2, 3]))), "OK");
  });

  it("refuses a trust root whose set is not the header's next set", () => {
    const wrong = [4, 5].map((i) => c.member(i, 1).v);
    assert.equal(code(trustHeader(c.deps.hash, c.header(1), wrong)), "LC_TRUST_ROOT_INVALID");
    const fromHeader = ok(
      trustHeader(
        c.deps.hash,
        c.header(1),
        set.map((m) => m.v),
      ),
    );
    assert.equal(fromHeader.height, 1);
  });
});

for (const suiteId of ["intl", "gm"] as const) {
  describe(`light client, skipping rule (${suiteId})`, () => {
    // Genesis set A = pool 0..3. Block 2 hands over to {0,1,5,6} (half of A stays); block 4 to
    // {0,5,6,7} (a quarter of A stays). Blocks 3–4 are signed by the first, 5+ by the second.
    const c = new SynthChain(suiteId, [1, 1, 1, 1], {
      2: [
        [0, 1],
        [1, 1],
        [5, 1],
        [6, 1],
      ],
      4: [
        [0, 1],
        [5, 1],
        [6, 1],
        [7, 1],
      ],
    }).extend(8);
    const s0 = trustGenesis(c.deps.hash, c.genesis);
    const opts = { now: Date.now(), trustingPeriodMs: 2 * HOUR };
    const setOf = (h: number) => (c.sets[h] as Member[]).map((m) => m.v);

    it("skips when more than 1/3 of the trusted power signed", () => {
      const s3 = ok(verifySkipping(c.deps, s0, c.header(3), c.commits[3]!, setOf(3), opts));
      assert.equal(s3.height, 3);
      // Header 4 changes the set: skipping onto it needs the proven new set too.
      assert.equal(
        code(verifySkipping(c.deps, s0, c.header(4), c.commits[4]!, setOf(4), opts)),
        "LC_NEXT_SET_MISSING",
      );
      const s4 = ok(verifySkipping(c.deps, s0, c.header(4), c.commits[4]!, setOf(4), opts, c.provenSet(4)));
      assert.deepEqual(s4.validators, setOf(5));
    });

    it("refuses a skip with 1/3 or less of the trusted power", () => {
      // A full quorum of its own set, but of the trusted set A only pool 0 (1/4) signed.
      const r = verifySkipping(c.deps, s0, c.header(6), c.commits[6]!, setOf(6), opts);
      assert.equal(code(r), "LC_TRUST_INSUFFICIENT");
    });

    it("refuses a set that is not the header's, and a commit without quorum of it", () => {
      assert.equal(
        code(verifySkipping(c.deps, s0, c.header(3), c.commits[3]!, setOf(1), opts)),
        "LC_VALIDATORS_HASH_MISMATCH",
      );
      const weak = c.sign(c.header(3), c.sets[3] as Member[], [0, 1]);
      const r = verifySkipping(c.deps, s0, c.header(3), weak, setOf(3), opts);
      assert.equal(code(r), "LC_COMMIT_INVALID");
      assert.equal(r.ok ? "" : r.reason, "COMMIT_NO_QUORUM");
    });

    it("refuses an expired trust root, a header from the future, and an older header", () => {
      const late = { now: s0.time + 3 * HOUR, trustingPeriodMs: 2 * HOUR };
      assert.equal(
        code(verifySkipping(c.deps, s0, c.header(3), c.commits[3]!, setOf(3), late)),
        "LC_TRUST_EXPIRED",
      );
      const early = { now: c.header(3).time - 60_000, trustingPeriodMs: 2 * HOUR };
      assert.equal(
        code(verifySkipping(c.deps, s0, c.header(3), c.commits[3]!, setOf(3), early)),
        "LC_HEADER_FROM_FUTURE",
      );
      const s3 = ok(verifySkipping(c.deps, s0, c.header(3), c.commits[3]!, setOf(3), opts));
      assert.equal(
        code(verifySkipping(c.deps, s3, c.header(2), c.commits[2]!, setOf(2), opts)),
        "LC_HEIGHT_NOT_NEWER",
      );
      const other = forge(c, 3, { chainId: "zl-other" });
      assert.equal(
        code(verifySkipping(c.deps, s0, other.header, other.commit, setOf(3), opts)),
        "LC_WRONG_CHAIN",
      );
    });

    it("LightClient.skipTo bisects when the overlap is too small", async () => {
      const lc = new LightClient(c.deps, s0);
      const asked: number[] = [];
      const f = c.fetchers();
      const r = await lc.skipTo(
        {
          ...f,
          signedHeader: (h) => {
            asked.push(h);
            return f.signedHeader(h);
          },
        },
        8,
        opts,
      );
      assert.equal(code(r), "OK");
      assert.equal(lc.height, 8);
      assert.ok(asked.length < 8, `fetched ${asked.join(",")}`);
      // Same result as following every header.
      assert.deepEqual(lc.trusted.blockHash, follow(c, 8).blockHash);
    });
  });
}

describe("light client is browser-safe", () => {
  it("no module reachable from light-client.js imports node:*", () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const root = join(here, "light-client.js");
    const seen = new Set<string>();
    const todo = [root];
    while (todo.length > 0) {
      const file = todo.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/(?:import|export)\s[^;]*?from\s+"([^"]+)"|import\("([^"]+)"\)/g)) {
        const spec = (m[1] ?? m[2]) as string;
        assert.ok(!spec.startsWith("node:"), `${file} imports ${spec}`);
        if (spec.startsWith(".")) todo.push(join(dirname(file), spec));
      }
    }
    assert.ok(seen.size > 5, `walked ${seen.size} modules`);
    assert.doesNotMatch(readFileSync(root, "utf8"), /["']node:/);
  });
});

describe("light client against a real node (HTTP API)", () => {
  let t: TestNode;
  before(async () => {
    t = await startTestNode("intl", { emptyBlocks: true });
  });
  after(async () => {
    await t.close();
  });

  it("follows 5 real blocks from genesis and verifies state at the verified header", async () => {
    const lc = await t.client.lightClient("genesis");
    const heights: number[] = [];
    for await (const s of t.client.followHeaders(lc, { until: 5, pollMs: 20 })) heights.push(s.height);
    assert.deepEqual(heights, [1, 2, 3, 4, 5]);
    assert.equal(lc.height, 5);
    const v = await t.client.queryLight(lc, VALIDATORS_KEY);
    assert.deepEqual(v.value, encodeValidators(t.node.chain.validators()));
    // A second client anchored on the verified header continues from there.
    const again = await t.client.lightClient({
      height: 5,
      header: lc.trusted.header!,
      validators: lc.trusted.validators,
    });
    for await (const st of t.client.followHeaders(again, { until: 7, pollMs: 20 })) assert.ok(st.height > 5);
    assert.equal(again.height, 7);
    const s = await t.client.syncLight(again);
    assert.ok(s.height >= 7);
  });
});
