import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { SseSplitter } from "./events.js";

/** Feeds `stream` cut at `cuts` (positions, any order, repeats allowed) and collects the messages. */
function split(stream: string, cuts: number[]): string[] {
  const at = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const splitter = new SseSplitter();
  const out: string[] = [];
  let from = 0;
  for (const c of [...at, stream.length]) {
    out.push(...splitter.push(stream.slice(from, c)));
    from = c;
  }
  return out;
}

test("messages end at a blank line, also when it falls across chunks", () => {
  const stream = "event: block\ndata: {}\n\nevent: block\ndata: [1]\n\n";
  const whole = ["event: block\ndata: {}", "event: block\ndata: [1]"];
  assert.deepEqual(split(stream, []), whole);
  // Every single cut, including between the two newlines that end a message.
  for (let c = 0; c <= stream.length; c++) assert.deepEqual(split(stream, [c]), whole, `cut at ${c}`);
  assert.deepEqual(split("data: 1\n\ndata: 2", []), ["data: 1"], "an unfinished message is kept back");
});

test("property: any chunking of a stream yields its messages, in order", () => {
  // A message is lines of text without newlines; a blank line ends it.
  const line = fc.string({ minLength: 1, maxLength: 12 }).filter((l) => !l.includes("\n"));
  const message = fc.array(line, { minLength: 1, maxLength: 4 }).map((ls) => ls.join("\n"));
  fc.assert(
    fc.property(
      fc.array(message, { maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 12 }),
      (messages, cuts) => {
        const stream = messages.map((m) => `${m}\n\n`).join("");
        assert.deepEqual(split(stream, cuts), messages);
      },
    ),
    { numRuns: 500 },
  );
});
