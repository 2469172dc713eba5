import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { describe, it } from "node:test";
import { cpuMeter, processCpuSeconds } from "./cpu.js";

describe("process CPU accounting", () => {
  it("counts the CPU a busy child process spends, and none for a process that is gone", async (t) => {
    if (processCpuSeconds(process.pid) === undefined) return t.skip("no /proc on this system");
    // The child burns CPU time (not wall time), says so and then idles: however loaded the
    // machine, it has spent at least 0.3 s of CPU when it is read.
    const burn =
      "const used = () => { const u = process.cpuUsage(); return u.user + u.system; };" +
      "while (used() < 300000);" +
      "console.log('done'); setInterval(() => {}, 1e6);";
    const child = spawn(process.execPath, ["-e", burn]);
    const read = cpuMeter([child.pid!]);
    await once(child.stdout, "data");
    // Read while the child still runs (its /proc entry goes when it is reaped).
    const { nodes, client } = read();
    child.kill();
    await once(child, "exit");
    assert.ok(nodes !== undefined && nodes >= 0.25, `child spent ${nodes} s`);
    assert.ok(client >= 0);
    assert.equal(processCpuSeconds(2 ** 22 + 12345), undefined);
  });
});
