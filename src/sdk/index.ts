/** Public entry point of the ZhengLian SDK. */

export { getSuite } from "../crypto/index.js";
export type { SuiteId } from "../crypto/suite.js";
export { type Genesis, type GenesisJson, genesisToJson, parseGenesis } from "../ledger/genesis.js";
export { type DecodedTx, txBodySlice } from "../ledger/tx.js";
export { cborToJson, jsonToCbor } from "./args.js";
export { ApiError, type SubmitResult, ZlClient } from "./client.js";
export { type BlockEvent, type SubscribeOptions, type Subscription, subscribeBlocks } from "./events.js";
export {
  decodeValidatorSet,
  type LightCheck,
  LightClient,
  type LightDeps,
  type LightErrorCode,
  type LightFailure,
  type LightFetchers,
  type ProvenValidatorSet,
  type SignedHeader,
  type SkipOptions,
  type StateCheck,
  type TrustedState,
  trustGenesis,
  trustHeader,
  VALIDATORS_KEY,
  verifyNextHeader,
  verifySkipping,
  verifyStateAgainst,
} from "./light-client.js";
export { Signer, type TxRequest } from "./signer.js";
export {
  type StateResponse,
  type TxInclusion,
  type VerifiedState,
  type VerifiedTx,
  verifyHeaderCommit,
  verifyStateResponse,
  verifyTxInclusion,
} from "./verify.js";
