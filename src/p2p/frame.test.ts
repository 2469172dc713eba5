/** Length-prefixed frames (src/p2p/frame.ts): encoding, limits, and any-split decoding. */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as fc from "fast-check";
import { encodeFrame, type Frame, FrameDecoder } from "./frame.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

test("frame layout: 4-byte big-endian length, channel byte, payload", () => {
  assert.equal(hex(encodeFrame(7, Uint8Array.of(0xaa, 0xbb))), "0000000307aabb");
  assert.equal(hex(encodeFrame(0, new Uint8Array(0))), "0000000100");
  assert.throws(() => encodeFrame(256, new Uint8Array(0)), { code: "P2P_BAD_CHANNEL" });
  assert.throws(() => encodeFrame(-1, new Uint8Array(0)), { code: "P2P_BAD_CHANNEL" });
});

test("a declared length over the limit is refused before its body arrives", () => {
  const d = new FrameDecoder(10);
  assert.deepEqual(d.push(Uint8Array.of(0, 0)), []);
  // Only the header of an 11-byte frame: refused now, nothing buffered for it.
  assert.throws(() => d.push(Uint8Array.of(0, 11)), { code: "P2P_FRAME_TOO_LARGE" });
  assert.throws(() => d.push(Uint8Array.of(0)), { code: "P2P_FRAME_DECODER_FAILED" });
  const huge = new FrameDecoder(1024);
  assert.throws(() => huge.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), { code: "P2P_FRAME_TOO_LARGE" });
  assert.equal(huge.buffered, 4);
});

test("an empty frame (no channel byte) is malformed; a frame at the limit is fine", () => {
  assert.throws(() => new FrameDecoder(10).push(Uint8Array.of(0, 0, 0, 0)), { code: "P2P_FRAME_MALFORMED" });
  const d = new FrameDecoder(10);
  const frames = d.push(encodeFrame(3, new Uint8Array(9)));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]?.payload.length, 9);
});

const frameArb: fc.Arbitrary<Frame> = fc.record({
  channel: fc.integer({ min: 0, max: 255 }),
  payload: fc.uint8Array({ maxLength: 300 }),
});

test("property: any split of a stream of frames decodes to the same frames", () => {
  fc.assert(
    fc.property(
      fc.array(frameArb, { maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 30 }),
      (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f.channel, f.payload)));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const d = new FrameDecoder(1024);
        const out: Frame[] = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          out.push(...d.push(new Uint8Array(stream.subarray(prev, p))));
          prev = p;
        }
        assert.equal(d.buffered, 0);
        assert.deepEqual(
          out.map((f) => [f.channel, hex(f.payload)]),
          frames.map((f) => [f.channel, hex(f.payload)]),
        );
      },
    ),
    { numRuns: 300 },
  );
});

test("property: byte-by-byte feeding equals one chunk", () => {
  fc.assert(
    fc.property(fc.array(frameArb, { maxLength: 5 }), (frames) => {
      const stream = Buffer.concat(frames.map((f) => encodeFrame(f.channel, f.payload)));
      const d = new FrameDecoder(1024);
      const out: Frame[] = [];
      for (const b of stream) out.push(...d.push(Uint8Array.of(b)));
      assert.equal(out.length, frames.length);
    }),
    { numRuns: 50 },
  );
});
