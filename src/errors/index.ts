/**
 * One error style for the whole node: every failure that can reach a user carries a stable,
 * machine-readable code (DOMAIN_REASON), an actionable message, and optional metadata.
 * The API returns `{ error: { code, message, meta } }`; receipts record the code.
 */
export class ZlError extends Error {
  readonly code: string;
  readonly meta: Record<string, unknown>;
  constructor(code: string, message: string, meta: Record<string, unknown> = {}) {
    super(message);
    this.name = "ZlError";
    this.code = code;
    this.meta = meta;
  }
  toJSON(): { code: string; message: string; meta: Record<string, unknown> } {
    return { code: this.code, message: this.message, meta: this.meta };
  }
}

/** Input could not be decoded or failed validation (maps to HTTP 400). */
export class InvalidInputError extends ZlError {}
/** A rule of the protocol refused the request (signature, nonce, expiry, role; HTTP 422). */
export class RejectedError extends ZlError {}
/** The node is at capacity; the caller should retry later (HTTP 503). */
export class BusyError extends ZlError {}
/** The thing asked for does not exist (HTTP 404). */
export class NotFoundError extends ZlError {}
/** Local storage or configuration is broken; the node halts rather than continue. */
export class FatalError extends ZlError {}

export function errorCode(err: unknown): string {
  return err instanceof ZlError ? err.code : "INTERNAL";
}
