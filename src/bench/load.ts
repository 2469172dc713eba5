/** Load-generation helpers shared by the benchmarks. */
import { toHex } from "../ledger/bytes.js";
import type { DecodedTx } from "../ledger/tx.js";
import type { ZlClient } from "../sdk/client.js";

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Submits a batch, retrying while the node answers 503 (its mempool is full: back-pressure).
 * Returns how many transactions the node refused for other reasons.
 */
export async function submitUntilAccepted(client: ZlClient, txs: readonly DecodedTx[]): Promise<number> {
  for (;;) {
    try {
      const r = await client.submitBatch(txs.map((t) => t.bytes));
      return r.results.filter((x) => !x.ok).length;
    } catch (err: unknown) {
      if ((err as { status?: number }).status !== 503) throw err;
      await sleep(20);
    }
  }
}

/** Waits for a setup transaction to commit successfully; returns its height. */
export async function waitCommitted(client: ZlClient, tx: DecodedTx): Promise<number> {
  for (let i = 0; i < 600; i++) {
    const t = (await client.getTx(toHex(tx.id)).catch(() => ({ status: "pending" }))) as {
      status: string;
      height?: number;
      receipt?: { code: string };
    };
    if (t.status === "committed") {
      if (t.receipt && t.receipt.code !== "OK")
        throw new Error(`setup transaction failed: ${t.receipt.code}`);
      return t.height ?? 0;
    }
    await sleep(50);
  }
  throw new Error("setup transaction did not commit within 30 s");
}
