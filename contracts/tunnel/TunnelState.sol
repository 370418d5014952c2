// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice Lifecycle of a vault. Live: takes deposits (unless capped, see `Vault.depositsUntilHeight`) and
///         withdrawals. Paused: neither (resumable). Closing: serves withdrawals, takes only deposits from blocks up to
///         `depositsUntilHeight`. Slashed: a withdrawal was challenged; no deposits, no new withdrawals, no fee claims.
enum VaultStatus {
    None,
    Live,
    Paused,
    Closing,
    Slashed
}

/// @notice Lifecycle of a withdrawal.
enum WithdrawalStatus {
    None,
    Pending,
    Finalized,
    Challenged
}

/// @notice Fees and minimum an operator sets for a vault. Fee = flat + amount * bps / 10000.
struct VaultTerms {
    uint16 depositFeeBps;
    uint64 depositFlatFee;
    uint16 withdrawalFeeBps;
    uint64 withdrawalFlatFee;
    uint64 minDeposit; // satoshis; smaller deposit outputs are never minted
}

/// @notice A vault. Amounts in satoshis (= hemiBTC units), except `collateral` (units of the collateral token).
struct Vault {
    // slot 0: everything a deposit reads
    VaultStatus status;
    bool pausedByGovernance; // paused by PAUSER_ROLE: only PAUSER_ROLE resumes it
    uint16 confirmations; // for deposits and payouts
    uint16 depositFeeBps;
    uint16 withdrawalFeeBps; // in force now (a raise waits in nextWithdrawalFee* until withdrawalFeeRaiseAt)
    uint64 minDeposit;
    uint64 depositFlatFee;
    uint64 withdrawalFlatFee;
    // slot 1
    address operator;
    // Closing, or Live and capped (under-collateralised): deposits in blocks at or below this Bitcoin height are
    // still minted, later ones are not. 0 on a Live vault: no cap.
    uint32 depositsUntilHeight;
    uint16 nextWithdrawalFeeBps; // a scheduled raise
    uint48 withdrawalFeeRaiseAt; // EVM time the scheduled raise takes effect (0: none scheduled)
    // slot 2: balances
    uint64 custody; // sats the custody script holds by the tunnel's accounting (deposited - paid out - written off)
    uint64 pending; // sats of pending withdrawals
    uint64 accruedFees; // fees earned, not yet minted to the operator
    uint64 nextWithdrawalFlatFee; // a scheduled raise
    // slot 3
    bytes32 custodyScriptHash; // keccak256 of the custody script
    // slot 4
    uint256 collateral; // units of the collateral token held by the tunnel for this vault
}

/// @notice A queued withdrawal (two storage slots). `confirmations` and `fee` are the terms in force at the request:
///         the withdrawal is judged by them whatever the vault's terms later become.
struct Withdrawal {
    address requester;
    uint32 vaultId;
    WithdrawalStatus status;
    uint40 deadline; // EVM timestamp; challengeable after it
    uint16 confirmations; // the payout's block needs this many
    uint64 sats; // burned
    uint64 fee; // the payout must be sats - fee
    bytes16 btcScriptHash; // first 16 bytes of keccak256 of the script to pay (second preimages cost 2**128)
}

/// @notice What is recorded for a confirmed deposit (sequence 0: not confirmed).
struct DepositRecord {
    uint64 sequence;
    uint32 blockHeight;
    uint32 txIndex;
    uint32 vaultId;
    bool inBitcoinOrder; // came after every previously confirmed deposit in (height, txIndex, vout) order
}

/// @notice The global deposit counter and the furthest Bitcoin position confirmed so far (a high-water mark: a
///         deposit confirmed out of order does not move it back); the global pause flag shares the slot (every
///         deposit reads both).
struct OrderCursor {
    uint64 count;
    uint32 height;
    uint32 txIndex;
    uint32 vout;
    bool paused;
}

/// @notice Governance settings (one slot), and the collateral price.
struct TunnelConfig {
    uint16 maxFeeBps; // largest fee rate an operator may set
    uint64 maxFlatFee; // largest flat fee an operator may set, satoshis
    uint32 withdrawalWindow; // seconds an operator has to get a payout proven (at least 20 min per confirmation)
    uint16 depositGraceBlocks; // Bitcoin blocks a closing or capped vault keeps minting deposits already sent
    uint32 feeRaiseDelay; // seconds before a raised withdrawal fee takes effect
    uint16 collateralRatioBps; // collateral value a vault keeps per satoshi of custody (15000 = 150%)
    uint16 liquidationThresholdBps; // below this ratio anyone may liquidate the vault
    uint16 liquidationBonusBps; // liquidators get collateral worth sats * (10000 + bonus) / 10000
    uint128 collateralPrice; // satoshis per 1e18 units of the collateral token (slot 2 of the config)
}

/// @notice The whole state of the tunnel, shared by its modules (TunnelVaults, TunnelDeposits, TunnelWithdrawals,
///         TunnelLiquidation, TunnelGovernance), which all operate on this one struct.
struct TunnelState {
    TunnelConfig config;
    uint32 vaultCount; // ids 1..vaultCount
    uint64 withdrawalCount; // ids 1..withdrawalCount
    OrderCursor cursor;
    mapping(uint256 vaultId => Vault) vaults;
    mapping(bytes32 scriptHash => uint32 vaultId) vaultOfScript;
    mapping(bytes32 outpointKey => DepositRecord) deposits;
    mapping(uint256 id => Withdrawal) withdrawals;
}

/// @notice How well a vault's custody is backed (the `vaultBacking` view). Values in satoshis at the governance price.
struct VaultBacking {
    uint256 collateralSats; // what the collateral is worth
    uint256 requiredCollateral; // units needed to back the custody at the collateral ratio
    uint256 freeCollateral; // units the operator may withdraw
    uint256 ratioBps; // collateral worth / custody (type(uint256).max for no custody)
    uint64 depositCapacity; // sats of new custody the collateral backs at the ratio
    bool backed; // ratio >= collateral ratio
    bool liquidatable; // Slashed, or ratio below the liquidation threshold
}
