/**
 * The BitcoinTunnel ABI fragments and event/struct shapes shared by the relayer (evm/tunnel.ts) and the dApp SDK
 * (sdk/abi.ts), so both speak the same tunnel. No Node.js dependencies: the SDK imports it. Hashes are bytes32 in
 * internal byte order, amounts are satoshis.
 */

/** Views, user calls and user-facing events of BitcoinTunnel: what both the relayer and the SDK call. */
export const TUNNEL_COMMON_FRAGMENTS = [
  "function lightClient() view returns (address)",
  "function token() view returns (address)",
  "function vaultCount() view returns (uint32)",
  "function withdrawalCount() view returns (uint64)",
  "function paused() view returns (bool)",
  "function withdrawalWindow() view returns (uint64)",
  "function vault(uint32 vaultId) view returns (tuple(uint8 status, bool pausedByGovernance, uint16 confirmations, uint16 depositFeeBps, uint16 withdrawalFeeBps, uint64 minDeposit, uint64 depositFlatFee, uint64 withdrawalFlatFee, address operator, uint32 depositsUntilHeight, uint64 custody, uint64 pending, uint64 accruedFees, uint64 bond, bytes32 custodyScriptHash))",
  "function vaultOfScript(bytes script) view returns (uint32)",
  "function depositRecord(bytes32 txid, uint32 vout) view returns (tuple(uint64 sequence, uint32 blockHeight, uint32 txIndex, uint32 vaultId, bool inBitcoinOrder))",
  "function orderCursor() view returns (tuple(uint64 count, uint32 height, uint32 txIndex, uint32 vout, bool paused))",
  "function withdrawal(uint64 id) view returns (tuple(address requester, uint32 vaultId, uint8 status, uint48 deadline, uint64 sats, uint64 fee, bytes16 btcScriptHash))",
  "function selectVault(uint64 sats) view returns (bool found, uint32 vaultId)",
  "function confirmDeposit(tuple(bytes rawTx, uint32 blockHeight, bytes blockHeader, uint256 txIndex, bytes merkleProof) proof, uint32 outputIndex) returns (uint64)",
  "function requestWithdrawal(bytes btcScript, uint64 sats) returns (uint64)",
  "function requestWithdrawalFrom(uint32 vaultId, bytes btcScript, uint64 sats) returns (uint64)",
  "function finalizeWithdrawal(uint64 id, tuple(bytes rawTx, uint32 blockHeight, bytes blockHeader, uint256 txIndex, bytes merkleProof) proof)",
  "event DepositConfirmed(bytes32 txid, uint32 vout, address recipient, uint64 sats, uint64 minted, uint64 sequence)",
  "event VaultCreated(uint32 indexed vaultId, address indexed operator, bytes custodyScript)",
  "event WithdrawalRequested(uint64 indexed id, uint32 indexed vaultId, address indexed requester, bytes btcScript, uint64 sats, uint64 fee, uint64 deadline)",
  "event WithdrawalFinalized(uint64 indexed id, uint32 indexed vaultId, bytes32 payoutTxid, uint64 paid)",
  "event WithdrawalChallenged(uint64 indexed id, uint32 indexed vaultId, address indexed requester, uint64 sats)",
] as const;

/** Roles, vault management, batch confirmation and challenges: what the relayer, the deploy and the tests add. */
export const TUNNEL_ADMIN_FRAGMENTS = [
  "function VAULT_MANAGER_ROLE() view returns (bytes32)",
  "function OPERATOR_ROLE() view returns (bytes32)",
  "function PAUSER_ROLE() view returns (bytes32)",
  "function hasRole(bytes32 role, address account) view returns (bool)",
  "function grantRole(bytes32 role, address account)",
  "function createVault(bytes script, tuple(uint16 depositFeeBps, uint64 depositFlatFee, uint16 withdrawalFeeBps, uint64 withdrawalFlatFee, uint64 minDeposit) terms) returns (uint32)",
  "function setVaultConfirmations(uint32 vaultId, uint16 confirmations)",
  "function addBond(uint32 vaultId, uint64 amount)",
  "function claimFees(uint32 vaultId, address to)",
  "function confirmDepositsInBlock(bytes blockHeader, uint32 blockHeight, tuple(bytes rawTx, uint256 txIndex, bytes merkleProof)[] txs, uint32[] outputIndexes) returns (uint256)",
  "function challengeWithdrawal(uint64 id)",
  "event VaultStatusChanged(uint32 indexed vaultId, uint8 status)",
  "event BondAdded(uint32 indexed vaultId, address indexed from, uint64 amount, uint64 bond)",
] as const;

/** `depositRecord(txid, vout)`; sequence 0 means not minted. */
export interface DepositRecord {
  sequence: bigint;
  blockHeight: number;
  txIndex: number;
  vaultId: number;
  inBitcoinOrder: boolean;
}

/** The fields of a `WithdrawalRequested` event. */
export interface WithdrawalRequestedFields {
  id: bigint;
  vaultId: number;
  requester: string;
  /** Output script to be paid, hex without 0x. */
  btcScript: string;
  sats: bigint;
  fee: bigint;
  deadline: number;
}
