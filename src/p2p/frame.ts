/**
 * Wire framing of the peer-to-peer transport: every frame is a 4-byte big-endian length L,
 * then L bytes: 1 byte channel, then the message. Channel 0 carries the handshake and status
 * messages; channels 1..255 belong to the layers above and are opaque here.
 */
import { InvalidInputError } from "../errors/index.js";

export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;
const HEADER_BYTES = 4;

export interface Frame {
  channel: number;
  payload: Uint8Array;
}

/** Encodes one frame (header included). */
export function encodeFrame(channel: number, payload: Uint8Array): Uint8Array {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255)
    throw new InvalidInputError("P2P_BAD_CHANNEL", `channel must be an integer 0..255, got ${channel}`);
  const len = 1 + payload.length;
  if (len > 0xffffffff) throw new InvalidInputError("P2P_FRAME_TOO_LARGE", "frame exceeds 4 GiB");
  const out = new Uint8Array(HEADER_BYTES + len);
  new DataView(out.buffer).setUint32(0, len, false);
  out[HEADER_BYTES] = channel;
  out.set(payload, HEADER_BYTES + 1);
  return out;
}

/**
 * Incremental decoder: feed it chunks as they arrive, get back the complete frames. A declared
 * length above `maxFrameBytes` (or zero: a frame has at least its channel byte) throws before
 * anything of that frame is buffered; after a throw the decoder must not be used again.
 * Each frame body is copied once into its own buffer, so large frames arriving in small chunks
 * cost linear time.
 */
export class FrameDecoder {
  private readonly header = new Uint8Array(HEADER_BYTES);
  private headerFill = 0;
  private body: Uint8Array | undefined;
  private bodyFill = 0;
  private failed = false;

  constructor(readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {
    if (!Number.isSafeInteger(maxFrameBytes) || maxFrameBytes < 1)
      throw new InvalidInputError("P2P_BAD_OPTION", "maxFrameBytes must be a positive integer");
  }

  /** Bytes of an incomplete frame currently held. */
  get buffered(): number {
    return this.headerFill + this.bodyFill;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.failed) throw new InvalidInputError("P2P_FRAME_DECODER_FAILED", "decoder already failed");
    const frames: Frame[] = [];
    let o = 0;
    while (o < chunk.length) {
      if (this.body === undefined) {
        const n = Math.min(HEADER_BYTES - this.headerFill, chunk.length - o);
        this.header.set(chunk.subarray(o, o + n), this.headerFill);
        this.headerFill += n;
        o += n;
        if (this.headerFill < HEADER_BYTES) break;
        const len = new DataView(this.header.buffer).getUint32(0, false);
        if (len === 0) {
          this.failed = true;
          throw new InvalidInputError("P2P_FRAME_MALFORMED", "empty frame (no channel byte)");
        }
        if (len > this.maxFrameBytes) {
          this.failed = true;
          throw new InvalidInputError(
            "P2P_FRAME_TOO_LARGE",
            `frame of ${len} bytes exceeds the limit of ${this.maxFrameBytes}`,
            { length: len, limit: this.maxFrameBytes },
          );
        }
        this.body = new Uint8Array(len);
        this.bodyFill = 0;
      }
      const n = Math.min(this.body.length - this.bodyFill, chunk.length - o);
      this.body.set(chunk.subarray(o, o + n), this.bodyFill);
      this.bodyFill += n;
      o += n;
      if (this.bodyFill === this.body.length) {
        frames.push({ channel: this.body[0] as number, payload: this.body.subarray(1) });
        this.body = undefined;
        this.bodyFill = 0;
        this.headerFill = 0;
      }
    }
    return frames;
  }
}
