/**
 * The double-sign guard's record on disk (src/consensus/tendermint/safety-guard.ts). `save` returns
 * only once the record is durable: write a temporary file, fsync it, rename it over the old one,
 * fsync the directory. A crash leaves either the old or the new record, never a torn one.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { FatalError } from "../errors/index.js";
import type { SignState, SignStateStore } from "./tendermint/safety-guard.js";

export class FileSignStateStore implements SignStateStore {
  constructor(private readonly path: string) {}

  load(): SignState | undefined {
    if (!existsSync(this.path)) return undefined;
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(this.path, "utf8"));
    } catch (err: unknown) {
      // Never guess: a validator that cannot read what it signed must not sign again.
      throw new FatalError(
        "CONSENSUS_SIGN_STATE_CORRUPT",
        `cannot read the double-sign record ${this.path} (${(err as Error).message}); restore it from a backup or, if this key never signed, delete it`,
      );
    }
    const s = parsed as SignState;
    if (s?.version !== 1 || !Number.isSafeInteger(s.height) || !Array.isArray(s.signed))
      throw new FatalError(
        "CONSENSUS_SIGN_STATE_CORRUPT",
        `${this.path} is not a version-1 double-sign record`,
      );
    return s;
  }

  save(state: SignState): void {
    const tmp = `${this.path}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const dir = openSync(dirname(this.path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
