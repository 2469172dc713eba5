/**
 * Transactions. The signed bytes are the canonical CBOR of the body array:
 *   body = [1, chainId, sender, nonce, expiry, module, call, args]
 *   signed transaction = [body, signature]
 * `sender` is the signer's raw public key in the chain's suite; the account address is
 * H(sender)[0..20]. The transaction id is H(encode(body)) — it excludes the signature, so it
 * cannot be changed by re-signing (SM2 signatures are randomized).
 */
import { type CborValue, decode, encode } from "../codec/cbor.js";
import type { CryptoSuite } from "../crypto/suite.js";
import { InvalidInputError } from "../errors/index.js";
import { toHex } from "./bytes.js";
import { readArray, readBytes, readText, readUint } from "./shape.js";

export const TX_VERSION = 1;
export const NAME_PATTERN = /^[a-z][a-zA-Z0-9_]{0,31}$/;

export interface TxBody {
  chainId: string;
  sender: Uint8Array;
  nonce: number;
  /** Last height at which the transaction may be included. */
  expiry: number;
  module: string;
  call: string;
  args: CborValue;
}

export interface SignedTx {
  body: TxBody;
  signature: Uint8Array;
}

/** A transaction together with what every layer derives from it, computed once at the edge. */
export interface DecodedTx {
  tx: SignedTx;
  id: Uint8Array;
  /** `id` in lowercase hex: the key by which the mempool and the API name the transaction. */
  idHex: string;
  /**
   * Canonical encoding of the signed transaction (what is stored in the block). The bytes the
   * signature covers are `txBodySlice(bytes)`, a view taken when needed: a pooled transaction
   * then keeps one object fewer alive.
   */
  bytes: Uint8Array;
  sender: Uint8Array;
  /** The sender's account address in lowercase hex, as its state keys spell it (`accountKey`, `nonceKey`). */
  addressHex: string;
}

export function bodyToCbor(body: TxBody): CborValue[] {
  return [TX_VERSION, body.chainId, body.sender, body.nonce, body.expiry, body.module, body.call, body.args];
}

export function encodeTxBody(body: TxBody): Uint8Array {
  return encode(bodyToCbor(body));
}

export function encodeSignedTx(tx: SignedTx): Uint8Array {
  return encode([bodyToCbor(tx.body), tx.signature]);
}

export function txFromCbor(value: CborValue): SignedTx {
  const [bodyV, sigV] = readArray(value, "tx", 2);
  const b = readArray(bodyV, "tx.body", 8);
  if (b[0] !== TX_VERSION)
    throw new InvalidInputError("LEDGER_TX_VERSION", `unsupported transaction version ${String(b[0])}`);
  return {
    body: {
      chainId: readText(b[1], "tx.body.chainId", 64),
      sender: readBytes(b[2], "tx.body.sender", 32, 65),
      nonce: readUint(b[3], "tx.body.nonce"),
      expiry: readUint(b[4], "tx.body.expiry"),
      module: readText(b[5], "tx.body.module", 32, NAME_PATTERN),
      call: readText(b[6], "tx.body.call", 32, NAME_PATTERN),
      args: b[7] as CborValue,
    },
    signature: readBytes(sigV, "tx.signature", 64, 64),
  };
}

export function decodeTx(suite: CryptoSuite, bytes: Uint8Array, maxBytes: number): DecodedTx {
  if (bytes.length > maxBytes)
    throw new InvalidInputError(
      "TX_TOO_LARGE",
      `transaction is ${bytes.length} bytes; the chain's limit is ${maxBytes}`,
    );
  const tx = txFromCbor(decode(bytes, maxBytes));
  const sender = tx.body.sender;
  const id = suite.hash(txBodySlice(bytes));
  return { tx, id, idHex: toHex(id), bytes, sender, addressHex: toHex(addressOf(suite, sender)) };
}

/** Bytes after the body in a canonical signed transaction: 0x5840 and the 64-byte signature. */
export const TX_SIGNATURE_SUFFIX = 66;

/**
 * The body bytes (what is signed and hashed into the id) of a canonical signed transaction:
 * [body, signature] = 0x82 || body || 0x5840 || 64 bytes, so the body is a slice, with no second
 * encoding. Only meaningful for bytes known to be canonical (decoded, or identical to such).
 */
export const txBodySlice = (bytes: Uint8Array): Uint8Array =>
  bytes.subarray(1, bytes.length - TX_SIGNATURE_SUFFIX);

export function signTx(suite: CryptoSuite, privateKey: Uint8Array, body: TxBody): DecodedTx {
  const signBytes = encodeTxBody(body);
  const signature = suite.sign(privateKey, signBytes);
  const tx = { body, signature };
  const sender = body.sender;
  const id = suite.hash(signBytes);
  return {
    tx,
    id,
    idHex: toHex(id),
    bytes: encodeSignedTx(tx),
    sender,
    addressHex: toHex(addressOf(suite, sender)),
  };
}

/** Account address: the first 20 bytes of the suite hash of the public key. */
export function addressOf(suite: CryptoSuite, publicKey: Uint8Array): Uint8Array {
  // A copy, not a view: a view of a fresh digest would move its bytes off V8's heap.
  return suite.hash(publicKey).slice(0, 20);
}
