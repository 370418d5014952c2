/**
 * The hemi-fabric dApp SDK: deposit BTC into the tunnel and follow it to the mint; withdraw hemiBTC and follow it
 * to the payout on Bitcoin. Start with `TunnelClient.fromDeployment(...)` or `new TunnelClient({...})`.
 */
export {
  TunnelClient,
  type TunnelClientOptions,
  type DepositInstructions,
  type DepositStage,
  type DepositStatus,
  type SentDeposit,
  type WithdrawalRequest,
  type WithdrawalStage,
  type WithdrawalStatus,
  type DepositEventInfo,
  type WithdrawalStatusLine,
  type TunnelSummary,
  type TrackOptions,
} from "./tunnelClient";
export {
  AddressError,
  addressToScriptHex,
  scriptHexToAddress,
  destinationScriptHex,
  networkOfChainName,
  networkParams,
  type BitcoinNetworkName,
} from "./addresses";
export { AmountError, parseAmount, formatBtc, btcNumberToSats, satsToBtcNumber, SATS_PER_BTC } from "./amounts";
export {
  NotADepositError,
  buildDepositTx,
  checkRecipient,
  depositOpReturnHex,
  payoutOpReturnHex,
  inspectDepositTx,
  tunnelFee,
  depositVsize,
  type BuildDepositOptions,
  type BuiltDeposit,
  type DepositOutput,
  type InspectedDeposit,
} from "./depositTx";
export { TrackTimeoutError, TunnelRevertError } from "./errors";
export {
  TUNNEL_ABI,
  HEMI_BTC_ABI,
  VAULT_STATUS,
  WITHDRAWAL_STATUS,
  type VaultInfo,
  type VaultStatusName,
  type WithdrawalInfo,
  type WithdrawalStatusName,
  type DepositRecordInfo,
} from "./abi";
export { connectTunnel, type ConnectTunnelOptions, type ConnectedTunnel } from "./connect";
