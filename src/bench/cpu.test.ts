import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { cpuMeter, processCpuSeconds } from "./cpu.js";

describe("process CPU accounting", () => {
  it("counts the CPU a busy child process spends, and none for a process that is gone", async (t) => {
    if (processCpuSeconds(process.pid) === undefined) return t.skip("no /proc on this system");
    const child = spawn(process.execPath, ["-e", "const end = Date.now() + 400; while (Date.now() < end);"]);
    const read = cpuMeter([child.pid!]);
    // Read while the child still runs (its /proc entry goes when it is reaped).
    await new Promise((r) => setTimeout(r, 300));
    const { nodes, client } = read();
    await new Promise((r) => child.once("exit", r));
    assert.ok(nodes !== undefined && nodes >= 0.1, `child spent ${nodes} s`);
    assert.ok(client >= 0);
    assert.equal(processCpuSeconds(2 ** 22 + 12345), undefined);
  });
});
