/** Helpers for the p2p tests: organizations, node identities, a capturing logger, waiting. */
import { EventEmitter } from "node:events";
import type { CryptoSuite } from "../crypto/suite.js";
import { createLogger, type Logger } from "../log/logger.js";
import { generateTlsKeyPair } from "./tls-key.js";
import { certificateToPem, issueNodeCertificate } from "./x509.js";

export interface Org {
  id: string;
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

export function makeOrg(suite: CryptoSuite, id: string): Org {
  return { id, ...suite.generateKeyPair() };
}

export interface NodeIdentity {
  nodeId: string;
  org: string;
  tlsKeyPem: string;
  tlsPublicKey: Uint8Array;
  certDer: Uint8Array;
  certPem: string;
}

const DAY = 86_400_000;

export function makeNode(
  suite: CryptoSuite,
  org: Org,
  nodeId: string,
  opts: { notBefore?: Date; notAfter?: Date; signingKey?: Uint8Array } = {},
): NodeIdentity {
  const tls = generateTlsKeyPair();
  const certDer = issueNodeCertificate({
    suite,
    orgId: org.id,
    orgPrivateKey: opts.signingKey ?? org.privateKey,
    nodeId,
    tlsPublicKey: tls.publicKey,
    notBefore: opts.notBefore ?? new Date(Date.now() - DAY),
    notAfter: opts.notAfter ?? new Date(Date.now() + 365 * DAY),
  });
  return {
    nodeId,
    org: org.id,
    tlsKeyPem: tls.privateKeyPem,
    tlsPublicKey: tls.publicKey,
    certDer,
    certPem: certificateToPem(certDer),
  };
}

export function rootsOf(...orgs: Org[]): Map<string, Uint8Array> {
  return new Map(orgs.map((o) => [o.id, o.publicKey]));
}

export interface LogRecord {
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

/** A Logger that records every call (at every level) and emits "record" for each. */
export function captureLogger(): { log: Logger; records: LogRecord[]; events: EventEmitter } {
  const records: LogRecord[] = [];
  const events = new EventEmitter();
  const silent = createLogger("silent");
  const make = (bindings: Record<string, unknown>): Logger => {
    const at =
      (level: string) =>
      (msg: string, fields: Record<string, unknown> = {}) => {
        const r = { level, msg, fields: { ...bindings, ...fields } };
        records.push(r);
        events.emit("record", r);
      };
    return {
      pino: silent.pino,
      trace: at("trace"),
      debug: at("debug"),
      info: at("info"),
      warn: at("warn"),
      error: at("error"),
      child: (b) => make({ ...bindings, ...b }),
    };
  };
  return { log: make({}), records, events };
}

/** Resolves when `cond()` holds (checked every 5 ms); rejects after `timeoutMs`. */
export async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves with the first log record matching `pred` (past or future); rejects after `timeoutMs`. */
export function waitForLog(
  cap: { records: LogRecord[]; events: EventEmitter },
  pred: (r: LogRecord) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<LogRecord> {
  const found = cap.records.find(pred);
  if (found) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cap.events.off("record", on);
      reject(new Error(`timed out waiting for log: ${what}`));
    }, timeoutMs);
    const on = (r: LogRecord) => {
      if (!pred(r)) return;
      clearTimeout(timer);
      cap.events.off("record", on);
      resolve(r);
    };
    cap.events.on("record", on);
  });
}
