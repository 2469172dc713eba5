/** Subscription to a node's committed blocks over server-sent events (GET /v1/events). */

export interface BlockEvent {
  height: number;
  hash: string;
  time: number;
  txs: Array<{ id: string; status: "ok" | "failed"; code: string; events: unknown }>;
}

export interface Subscription {
  close(): void;
  /** Resolves when the stream ends (closed, or the node went away). */
  ended: Promise<void>;
}

/** Calls `onBlock` for every block committed after the call; the time of arrival is passed too. */
export async function subscribeBlocks(
  baseUrl: string,
  onBlock: (b: BlockEvent, receivedAt: number) => void,
): Promise<Subscription> {
  const ctrl = new AbortController();
  const res = await fetch(new URL("/v1/events", baseUrl), { signal: ctrl.signal });
  if (!res.ok || !res.body) throw new Error(`subscription refused: HTTP ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const ended = (async () => {
    let buf = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const now = performance.now();
        buf += decoder.decode(value, { stream: true });
        for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
          const message = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = message.split("\n").find((l) => l.startsWith("data: "));
          if (data) onBlock(JSON.parse(data.slice(6)) as BlockEvent, now);
        }
      }
    } catch {
      // closed by the caller, or the node went away
    }
  })();
  return { close: () => ctrl.abort(), ended };
}
