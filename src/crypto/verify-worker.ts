/** worker_threads entry for VerifyPool: verifies packed chunks with the pool's suite. */
import { parentPort, workerData } from "node:worker_threads";
import { getSuite } from "./index.js";
import type { SignatureItem, SuiteId } from "./suite.js";
import { unpackItems } from "./verify-codec.js";

interface Job {
  id: number;
  /** The packed chunk; its results are written back into it (verify-codec.ts). */
  buf: SharedArrayBuffer;
}

const port = parentPort;
if (port === null) throw new Error("verify-worker must run in a worker thread");
const suite = getSuite((workerData as { suite: SuiteId }).suite);

port.on("message", (msg: Job | { id: number; crash: true }) => {
  if ("crash" in msg) process.exit(3); // test hook: simulate a dying worker
  const { items, resultsOffset } = unpackItems(msg.buf);
  const out = new Uint8Array(msg.buf, resultsOffset, items.length);
  if (suite.verifyMany !== undefined) suite.verifyMany(items, out);
  else
    for (let i = 0; i < items.length; i++) {
      const it = items[i] as SignatureItem;
      out[i] = suite.verify(it.publicKey, it.message, it.signature) ? 1 : 0;
    }
  port.postMessage({ id: msg.id });
});
