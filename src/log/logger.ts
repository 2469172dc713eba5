/**
 * Structured, levelled logging (pino). Policy: a message is a constant string; variable data
 * goes in fields (`log.info("block committed", { height, txs })`); never log private keys,
 * personal data or whole transaction payloads. Only the CLI writes to the console directly.
 */
import { pino } from "pino";

export type Level = "trace" | "debug" | "info" | "warn" | "error" | "fatal" | "silent";
type Fields = Record<string, unknown>;

export interface Logger {
  trace(msg: string, fields?: Fields): void;
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
  child(bindings: Fields): Logger;
  readonly pino: pino.Logger;
}

function wrap(p: pino.Logger): Logger {
  return {
    pino: p,
    trace: (msg, f) => p.trace(f ?? {}, msg),
    debug: (msg, f) => p.debug(f ?? {}, msg),
    info: (msg, f) => p.info(f ?? {}, msg),
    warn: (msg, f) => p.warn(f ?? {}, msg),
    error: (msg, f) => p.error(f ?? {}, msg),
    child: (b) => wrap(p.child(b)),
  };
}

/** Keys whose values are redacted wherever they appear in log fields. */
const REDACT = ["privateKey", "*.privateKey", "secret", "*.secret", "password", "*.password"];

export function createLogger(level: Level = "info", destination?: string): Logger {
  const opts: pino.LoggerOptions = {
    level,
    redact: { paths: REDACT, censor: "[redacted]" },
    base: { svc: "zl" },
  };
  // Without a log file, logs go to standard error so that standard output carries only what the
  // CLI prints (e.g. `zl start --json`).
  return wrap(
    pino(
      opts,
      pino.destination(
        destination ? { dest: destination, mkdir: true, sync: false } : { dest: 2, sync: false },
      ),
    ),
  );
}

export const silentLogger = (): Logger => createLogger("silent");
