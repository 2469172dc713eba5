/** Subscription to a node's committed blocks over server-sent events (GET /v1/events). */

export interface BlockEvent {
  height: number;
  hash: string;
  time: number;
  /** `events` is present in the full view only. */
  txs: Array<{ id: string; status: "ok" | "failed"; code: string; events?: unknown }>;
}

export interface SubscribeOptions {
  /**
   * `full` (the default): each transaction with its events; `filtered`: its id, status and code
   * only, for a subscriber that only follows commits (about half the bytes to send and parse).
   */
  view?: "full" | "filtered";
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
  opts: SubscribeOptions = {},
): Promise<Subscription> {
  const ctrl = new AbortController();
  const url = new URL("/v1/events", baseUrl);
  if (opts.view !== undefined) url.searchParams.set("view", opts.view);
  const res = await fetch(url, { signal: ctrl.signal });
  if (!res.ok || !res.body) throw new Error(`subscription refused: HTTP ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const splitter = new SseSplitter();
  const ended = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const now = performance.now();
        for (const message of splitter.push(decoder.decode(value, { stream: true }))) {
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

/**
 * Splits a server-sent event stream, fed in chunks of any size, into its messages (the text
 * between blank lines). A block's event can be hundreds of kilobytes and arrive in many chunks:
 * each chunk is searched once and the pieces of a message are joined once, when it ends, rather
 * than re-searching and re-copying the whole pending text for every chunk.
 */
export class SseSplitter {
  /** Pieces of a message not ended yet (never empty strings). */
  private pending: string[] = [];

  /** Returns the messages that `text` completes, in order. */
  push(text: string): string[] {
    if (text.length === 0) return [];
    const messages: string[] = [];
    let start = 0;
    // A pending text ending in "\n" and a chunk starting with one make the blank line between them.
    const last = this.pending[this.pending.length - 1];
    if (
      last !== undefined &&
      last.charCodeAt(last.length - 1) === NEWLINE &&
      text.charCodeAt(0) === NEWLINE
    ) {
      messages.push(this.pending.join("").slice(0, -1));
      this.pending = [];
      start = 1;
    }
    for (let i = text.indexOf("\n\n", start); i >= 0; i = text.indexOf("\n\n", start)) {
      const tail = text.slice(start, i);
      messages.push(this.pending.length > 0 ? this.pending.join("") + tail : tail);
      this.pending = [];
      start = i + 2;
    }
    if (start < text.length) this.pending.push(text.slice(start));
    return messages;
  }
}

const NEWLINE = 10;
