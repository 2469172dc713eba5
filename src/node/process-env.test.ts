import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NODE_GLIBC_TUNABLES, nodeProcessEnv } from "./process-env.js";

describe("nodeProcessEnv", () => {
  it("adds the node's glibc tunables to an environment without any", () => {
    const env = nodeProcessEnv({ PATH: "/usr/bin" });
    assert.equal(env.GLIBC_TUNABLES, NODE_GLIBC_TUNABLES);
    assert.equal(env.PATH, "/usr/bin");
  });

  it("keeps the tunables already set and appends its own", () => {
    const env = nodeProcessEnv({ GLIBC_TUNABLES: "glibc.malloc.arena_max=2" });
    assert.equal(env.GLIBC_TUNABLES, `glibc.malloc.arena_max=2:${NODE_GLIBC_TUNABLES}`);
  });

  it("leaves an operator's own huge-page setting as it is", () => {
    for (const set of ["glibc.malloc.hugetlb=0", "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=0"])
      assert.equal(nodeProcessEnv({ GLIBC_TUNABLES: set }).GLIBC_TUNABLES, set);
  });

  it("returns a copy: the environment it was given is not changed", () => {
    const base = { HOME: "/root" };
    const env = nodeProcessEnv(base);
    assert.deepEqual(base, { HOME: "/root" });
    assert.notEqual(env, base);
  });
});
