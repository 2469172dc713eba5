/**
 * Tests of the consensus write-ahead log on real files in a temporary directory.
 *
 * This file is also the helper of the crash test: started with ZL_WAL_CHILD=<wal path> it
 * registers no test and instead appends with appendSync in a loop, printing "<run>:<i>" on stdout
 * after each record is synced, until the parent kills it with SIGKILL.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import * as fc from "fast-check";
import { FatalError, ZlError } from "../errors/index.js";
import { crc32c, decodeWalRecord, encodeWalRecord, openWal, type WalOptions, type WalRecord } from "./wal.js";

const CHILD_OPTIONS: WalOptions = { maxSegmentBytes: 2048, keepSegments: 10_000 };
const text = new TextEncoder();
const untext = new TextDecoder();

function runChild(path: string, run: string): void {
  const wal = openWal(path, CHILD_OPTIONS);
  for (let i = 0; i < 200_000; i++) {
    wal.appendSync({ type: "msg", height: 1, round: 0, body: text.encode(`${run}:${i}`) });
    writeSync(1, `${run}:${i}\n`);
  }
  wal.close();
}

const childPath = process.env.ZL_WAL_CHILD;
if (childPath !== undefined) {
  runChild(childPath, process.env.ZL_WAL_RUN ?? "0");
} else {
  registerTests();
}

function registerTests(): void {
  const root = mkdtempSync(join(tmpdir(), "zl-wal-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  let dirs = 0;
  const freshDir = () => {
    const dir = join(root, `d${dirs++}`);
    mkdirSync(dir);
    return dir;
  };

  const msg = (height: number, round: number, s: string): WalRecord => ({
    type: "msg",
    height,
    round,
    body: text.encode(s),
  });
  const all = (path: string, opts?: WalOptions): WalRecord[] => {
    const wal = openWal(path, opts);
    const out = [...wal.records()];
    wal.close();
    return out;
  };
  const marker = (h: number): WalRecord => ({ type: "endHeight", height: h, body: new Uint8Array(0) });
  /** Byte offsets at which each record of a segment starts. */
  const frameStarts = (buf: Uint8Array): number[] => {
    const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    const out: number[] = [];
    for (let o = 0; o < buf.length; o += 8 + view.getUint32(o)) out.push(o);
    return out;
  };
  const isCode = (code: string) => (err: unknown) => {
    assert.ok(err instanceof ZlError, String(err));
    assert.equal(err.code, code);
    return true;
  };

  /** A single-segment WAL of 6 records (the initial marker + 5), its bytes and record starts. */
  const sample = () => {
    const path = join(freshDir(), "wal");
    const wal = openWal(path);
    const written = [marker(0)];
    for (let i = 0; i < 5; i++) {
      const r = msg(1, i, `message number ${i} with some padding`);
      wal.append(r);
      written.push(r);
    }
    wal.close();
    const bytes = readFileSync(`${path}.000000`);
    return { written, bytes, starts: frameStarts(bytes) };
  };

  describe("WAL encoding", () => {
    test("CRC-32C check values", () => {
      assert.equal(crc32c(text.encode("123456789")), 0xe3069283);
      assert.equal(crc32c(new Uint8Array(0)), 0);
      // RFC 3720 (iSCSI), appendix B.4: 32 zero bytes, 32 bytes of 0xff, bytes 0..31.
      assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
      assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
      assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
    });

    test("CRC-32C by eight-byte slices equals the bit-by-bit definition, on any bytes and range", () => {
      const bitwise = (b: Uint8Array, start: number, end: number): number => {
        let c = 0xffffffff;
        for (let i = start; i < end; i++) {
          c ^= b[i]!;
          for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
        }
        return (c ^ 0xffffffff) >>> 0;
      };
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.nat(), (b, x, y) => {
          const start = b.length === 0 ? 0 : x % (b.length + 1);
          const end = start + (b.length === 0 ? 0 : y % (b.length - start + 1));
          assert.equal(crc32c(b, start, end), bitwise(b, start, end));
        }),
        { numRuns: 2000 },
      );
    });

    test("records are canonical CBOR and round-trip; bad records are refused", () => {
      const r: WalRecord = { type: "signed", height: 7, round: 2, body: new Uint8Array([1, 2, 3]) };
      assert.deepEqual(decodeWalRecord(encodeWalRecord(r)), r);
      const noRound: WalRecord = { type: "timeout", height: 0, body: new Uint8Array(0) };
      assert.deepEqual(decodeWalRecord(encodeWalRecord(noRound)), noRound);
      assert.throws(() => encodeWalRecord({ ...r, type: "nope" as "msg" }), isCode("WAL_BAD_RECORD"));
      assert.throws(() => encodeWalRecord({ ...r, height: -1 }), isCode("WAL_BAD_RECORD"));
      assert.throws(() => encodeWalRecord({ ...r, round: 1.5 }), isCode("WAL_BAD_RECORD"));
    });
  });

  describe("WAL files", () => {
    test("round trip across reopen, with the initial endHeight marker", () => {
      const path = join(freshDir(), "wal");
      const wal = openWal(path, { initialHeight: 5 });
      assert.equal(wal.recovery.initialized, true);
      const records: WalRecord[] = [
        msg(5, 0, "proposal"),
        { type: "timeout", height: 5, round: 0, body: text.encode("propose") },
        { type: "signed", height: 5, round: 1, body: new Uint8Array(100_000).fill(7) },
        { type: "msg", height: 5, body: new Uint8Array(0) },
      ];
      for (const r of records) wal.append(r);
      wal.endHeight(5);
      wal.close();
      const again = openWal(path, { initialHeight: 5 });
      assert.deepEqual(again.recovery, {
        segments: 1,
        records: 6,
        droppedBytes: 0,
        truncatedSegment: null,
        truncatedReason: null,
        initialized: false,
      });
      assert.deepEqual([...again.records()], [marker(4), ...records, marker(5)]);
      again.close();
    });

    test("appendSync and flush: synced data is in the file; flush is one fsync for many appends", () => {
      const path = join(freshDir(), "wal");
      const file = `${path}.000000`;
      const wal = openWal(path);
      const base = wal.stats.fsyncs; // the initial marker was synced
      assert.equal(base, 1);
      const size0 = statSync(file).size;
      for (let i = 0; i < 50; i++) wal.append(msg(1, 0, `buffered ${i}`));
      assert.equal(statSync(file).size, size0, "append buffers");
      wal.flush();
      assert.equal(wal.stats.fsyncs, base + 1, "group commit");
      const size1 = statSync(file).size;
      assert.ok(size1 > size0);
      wal.flush();
      assert.equal(wal.stats.fsyncs, base + 1, "nothing to sync");
      for (let i = 0; i < 3; i++) {
        wal.appendSync({ type: "signed", height: 1, round: 0, body: text.encode(`vote ${i}`) });
        assert.equal(wal.stats.fsyncs, base + 2 + i);
      }
      // Read the file behind the WAL's back, as a restarted process would.
      const onDisk = frameStarts(readFileSync(file)).length;
      assert.equal(onDisk, 1 + 50 + 3);
      wal.close();
      assert.throws(() => wal.append(msg(1, 0, "x")), isCode("WAL_CLOSED"));
    });

    test("a file cut at every byte offset of its last record keeps all earlier records", () => {
      const { written, bytes, starts } = sample();
      const lastStart = starts[starts.length - 1]!;
      for (let cut = lastStart; cut < bytes.length; cut++) {
        const dir = freshDir();
        const path = join(dir, "wal");
        writeFileSync(`${path}.000000`, bytes.subarray(0, cut));
        const wal = openWal(path);
        assert.equal(wal.recovery.droppedBytes, cut - lastStart, `cut ${cut}`);
        assert.equal(wal.recovery.truncatedSegment !== null, cut > lastStart);
        assert.deepEqual([...wal.records()], written.slice(0, -1), `cut ${cut}`);
        assert.equal(statSync(`${path}.000000`).size, lastStart);
        // Appending after recovery continues cleanly.
        wal.appendSync(msg(1, 9, "after"));
        wal.close();
        assert.deepEqual(all(path), [...written.slice(0, -1), msg(1, 9, "after")]);
      }
    });

    test("a flipped byte anywhere in the last record: the record is truncated", () => {
      const { written, bytes, starts } = sample();
      const lastStart = starts[starts.length - 1]!;
      for (let at = lastStart; at < bytes.length; at++) {
        for (const mask of [0x01, 0xff]) {
          const path = join(freshDir(), "wal");
          const copy = Uint8Array.from(bytes);
          copy[at]! ^= mask;
          writeFileSync(`${path}.000000`, copy);
          const wal = openWal(path);
          assert.equal(wal.recovery.droppedBytes, bytes.length - lastStart, `byte ${at}`);
          assert.deepEqual([...wal.records()], written.slice(0, -1));
          wal.close();
        }
      }
    });

    test("a flipped byte anywhere in a middle record is WAL_CORRUPT and the file is left alone", () => {
      const { bytes, starts } = sample();
      for (let at = starts[2]!; at < starts[3]!; at++) {
        const path = join(freshDir(), "wal");
        const copy = Uint8Array.from(bytes);
        copy[at]! ^= 0x01;
        writeFileSync(`${path}.000000`, copy);
        assert.throws(
          () => openWal(path),
          (err: unknown) => err instanceof FatalError && err.code === "WAL_CORRUPT",
          `byte ${at}`,
        );
        assert.deepEqual(readFileSync(`${path}.000000`), Buffer.from(copy));
      }
    });

    test("replayFrom yields the records after the last endHeight(h − 1)", () => {
      const path = join(freshDir(), "wal");
      const wal = openWal(path);
      const h1 = [msg(1, 0, "a"), msg(1, 1, "b")];
      const h2 = [msg(2, 0, "c")];
      const h3 = [
        msg(3, 0, "d"),
        { type: "timeout", height: 3, round: 0, body: text.encode("t") } as WalRecord,
      ];
      for (const r of h1) wal.append(r);
      wal.endHeight(1);
      for (const r of h2) wal.append(r);
      wal.endHeight(2);
      wal.endHeight(2); // a restart may write the marker again: the last one counts
      for (const r of h3) wal.append(r); // buffered, not yet flushed: replay still sees them
      assert.deepEqual([...wal.replayFrom(3)], h3);
      assert.deepEqual([...wal.replayFrom(2)], [...h2, marker(2), marker(2), ...h3]);
      assert.deepEqual([...wal.replayFrom(1)], [...h1, marker(1), ...h2, marker(2), marker(2), ...h3]);
      assert.throws(() => [...wal.replayFrom(5)], isCode("WAL_HEIGHT_NOT_FOUND"));
      wal.endHeight(3);
      assert.deepEqual([...wal.replayFrom(4)], []);
      wal.close();
      const again = openWal(path);
      assert.deepEqual([...again.replayFrom(3)], [...h3, marker(3)]);
      again.close();
    });

    test("rotation: segments wal.000000…, replay spans them, pruning keeps the last N", () => {
      const dir = freshDir();
      const path = join(dir, "wal");
      const opts: WalOptions = { maxSegmentBytes: 300, keepSegments: 1000 };
      const wal = openWal(path, opts);
      const written: WalRecord[] = [marker(0)];
      for (let h = 1; h <= 8; h++) {
        for (let i = 0; i < 6; i++) {
          const r = msg(h, i % 2, `height ${h} message ${i} ..........`);
          wal.append(r);
          written.push(r);
        }
        wal.endHeight(h);
        written.push(marker(h));
      }
      const expected = (h: number) => {
        let at = -1;
        written.forEach((r, k) => {
          if (r.type === "endHeight" && r.height === h - 1) at = k;
        });
        return written.slice(at + 1);
      };
      assert.ok(wal.stats.rotations >= 5, `rotations ${wal.stats.rotations}`);
      const names = readdirSync(dir).sort();
      assert.equal(names[0], "wal.000000");
      assert.equal(names[1], "wal.000001");
      assert.equal(names.length, wal.stats.rotations + 1);
      for (const name of names) assert.ok(statSync(join(dir, name)).size < 300 + 200);
      for (let h = 1; h <= 9; h++) assert.deepEqual([...wal.replayFrom(h)], expected(h), `height ${h}`);
      wal.close();
      const again = openWal(path, opts);
      assert.equal(again.recovery.records, written.length);
      assert.equal(again.recovery.segments, names.length);
      for (let h = 1; h <= 9; h++) assert.deepEqual([...again.replayFrom(h)], expected(h), `height ${h}`);
      again.close();

      // Reopen keeping 3 segments: the next rotation prunes the oldest ones.
      const pruned = openWal(path, { maxSegmentBytes: 300, keepSegments: 3 });
      const tail: WalRecord[] = [];
      for (let i = 0; i < 12; i++) {
        const r = msg(9, i, `height 9 message ${i} ..........`);
        pruned.append(r);
        tail.push(r);
      }
      pruned.flush();
      const kept = readdirSync(dir).sort();
      assert.equal(kept.length, 3);
      assert.deepEqual(
        pruned.segmentPaths(),
        kept.map((n) => join(dir, n)),
      );
      assert.deepEqual([...pruned.replayFrom(9)], tail);
      assert.throws(() => [...pruned.replayFrom(1)], isCode("WAL_HEIGHT_NOT_FOUND"));
      pruned.close();
    });

    test("damage in a sealed segment or a missing segment is WAL_CORRUPT", () => {
      const dir = freshDir();
      const path = join(dir, "wal");
      const wal = openWal(path, { maxSegmentBytes: 200 });
      for (let i = 0; i < 20; i++) wal.append(msg(1, i, `filler ${i} ..........`));
      wal.close();
      const names = readdirSync(dir).sort();
      assert.ok(names.length >= 3);
      // Cut the tail of a sealed segment: it cannot be a torn write (it was fsynced before the next).
      const sealed = join(dir, names[1]!);
      const original = readFileSync(sealed);
      writeFileSync(sealed, original.subarray(0, original.length - 3));
      assert.throws(() => openWal(path), isCode("WAL_CORRUPT"));
      writeFileSync(sealed, original);
      assert.equal(all(path).length, 21);
      rmSync(sealed);
      assert.throws(() => openWal(path), isCode("WAL_CORRUPT"));
    });

    test("a child appending with appendSync, killed with SIGKILL 3 times: every reported record survives", async () => {
      const path = join(freshDir(), "wal");
      const helper = fileURLToPath(import.meta.url);
      const reported: string[] = [];
      for (let run = 0; run < 3; run++) {
        const env: NodeJS.ProcessEnv = { ...process.env, ZL_WAL_CHILD: path, ZL_WAL_RUN: String(run) };
        delete env.NODE_TEST_CONTEXT;
        const child = spawn(process.execPath, [helper], { env, stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        let timer: NodeJS.Timeout | undefined;
        child.stdout.setEncoding("utf8");
        child.stdout.on("data", (chunk: string) => {
          out += chunk;
          if (timer === undefined)
            timer = setTimeout(() => child.kill("SIGKILL"), 20 + Math.floor(Math.random() * 100));
        });
        const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
          child.on("close", (_code, sig) => resolve(sig)),
        );
        clearTimeout(timer);
        assert.equal(signal, "SIGKILL", "the child was killed, not finished");
        const lines = out.split("\n").slice(0, -1); // the last piece may be a partial line
        assert.ok(lines.length > 0);
        reported.push(...lines);

        const wal = openWal(path, CHILD_OPTIONS);
        const bodies = [...wal.records()].filter((r) => r.type === "msg").map((r) => untext.decode(r.body));
        wal.close();
        const have = new Set(bodies);
        for (const line of reported) assert.ok(have.has(line), `synced record ${line} lost`);
        // Nothing reordered or duplicated: per run, records 0, 1, 2, … in order.
        for (let r = 0; r <= run; r++) {
          const mine = bodies
            .filter((b) => b.startsWith(`${r}:`))
            .map((b) => Number(b.slice(b.indexOf(":") + 1)));
          assert.deepEqual(
            mine,
            mine.map((_v, k) => k),
          );
        }
      }
    });
  });
}
