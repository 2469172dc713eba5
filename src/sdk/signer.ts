/** An account key that builds and signs transactions. */
import type { CborValue } from "../codec/cbor.js";
import { getSuite } from "../crypto/index.js";
import type { CryptoSuite, SuiteId } from "../crypto/suite.js";
import { toHex } from "../ledger/bytes.js";
import { addressOf, type DecodedTx, signTx } from "../ledger/tx.js";

export interface TxRequest {
  module: string;
  call: string;
  args: CborValue;
  nonce: number;
  expiry: number;
}

export class Signer {
  readonly publicKey: Uint8Array;
  readonly address: Uint8Array;

  constructor(
    readonly suite: CryptoSuite,
    private readonly privateKey: Uint8Array,
  ) {
    this.publicKey = suite.publicKeyFromPrivate(privateKey);
    this.address = addressOf(suite, this.publicKey);
  }

  static generate(suite: SuiteId | CryptoSuite): Signer {
    const s = typeof suite === "string" ? getSuite(suite) : suite;
    return new Signer(s, s.generateKeyPair().privateKey);
  }

  static fromPem(suite: SuiteId | CryptoSuite, pem: string): Signer {
    const s = typeof suite === "string" ? getSuite(suite) : suite;
    return new Signer(s, s.privateKeyFromPem(pem));
  }

  get addressHex(): string {
    return toHex(this.address);
  }

  toPem(): string {
    return this.suite.privateKeyToPem(this.privateKey);
  }

  sign(chainId: string, req: TxRequest): DecodedTx {
    return signTx(this.suite, this.privateKey, { chainId, sender: this.publicKey, ...req });
  }
}
