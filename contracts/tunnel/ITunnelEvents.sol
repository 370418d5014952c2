// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VaultStatus, VaultTerms} from "./TunnelState.sol";

/// @title ITunnelEvents
/// @notice Every event of BitcoinTunnel. The tunnel's modules emit them (as `ITunnelEvents.X`) from the tunnel's
///         address; the tunnel inherits this interface so that its ABI has them all.
interface ITunnelEvents {
    /// @notice A deposit was minted. `txid` in internal byte order; `sequence` is its place in the total order.
    event DepositConfirmed(bytes32 txid, uint32 vout, address recipient, uint64 sats, uint64 minted, uint64 sequence);
    /// @notice A vault was created. The custody script is stored only here (and as a hash in the vault).
    event VaultCreated(uint32 indexed vaultId, address indexed operator, bytes custodyScript);
    /// @notice A vault's fees or minimum changed (a withdrawal fee raise shows here once scheduled; it takes effect
    ///         at the time WithdrawalFeeRaiseScheduled gives).
    event VaultTermsSet(uint32 indexed vaultId, VaultTerms terms);
    /// @notice A withdrawal fee raise was scheduled: withdrawals requested from `effectiveAt` on pay it.
    event WithdrawalFeeRaiseScheduled(uint32 indexed vaultId, uint16 feeBps, uint64 flatFee, uint64 effectiveAt);
    /// @notice A vault's required confirmations changed (for deposits and for withdrawals requested from now on).
    event VaultConfirmationsSet(uint32 indexed vaultId, uint16 confirmations);
    /// @notice A vault's status changed.
    event VaultStatusChanged(uint32 indexed vaultId, VaultStatus status);
    /// @notice A vault now mints only deposits in Bitcoin blocks up to `depositsUntilHeight` (0: no limit again).
    ///         Set when it closes or becomes under-collateralised (the best height plus the grace period).
    event VaultDepositWindowSet(uint32 indexed vaultId, uint32 depositsUntilHeight);
    /// @notice Collateral was added to a vault; `collateral` is its new total.
    event CollateralAdded(uint32 indexed vaultId, address indexed from, uint256 amount, uint256 collateral);
    /// @notice Collateral no longer needed to back a vault's custody was returned to its operator.
    event CollateralWithdrawn(uint32 indexed vaultId, address indexed to, uint256 amount, uint256 collateral);
    /// @notice A vault's accrued fees were minted.
    event FeesClaimed(uint32 indexed vaultId, address indexed to, uint64 amount);
    /// @notice A withdrawal was queued; the operator must pay `sats - fee` to `btcScript` with OP_RETURN <id>.
    event WithdrawalRequested(
        uint64 indexed id,
        uint32 indexed vaultId,
        address indexed requester,
        bytes btcScript,
        uint64 sats,
        uint64 fee,
        uint64 deadline
    );
    /// @notice A withdrawal's payout was proven (`payoutTxid` in internal byte order).
    event WithdrawalFinalized(uint64 indexed id, uint32 indexed vaultId, bytes32 payoutTxid, uint64 paid);
    /// @notice A withdrawal passed its deadline unpaid; the requester got collateral worth `sats` (`collateralPaid`
    ///         units) from the vault.
    event WithdrawalChallenged(
        uint64 indexed id,
        uint32 indexed vaultId,
        address indexed requester,
        uint64 sats,
        uint256 collateralPaid
    );
    /// @notice `liquidator` burned `sats` hemiBTC backed by a failed vault and took `collateralPaid` of its collateral.
    event VaultLiquidated(uint32 indexed vaultId, address indexed liquidator, uint64 sats, uint256 collateralPaid);
    /// @notice The tunnel was paused (same event as OpenZeppelin Pausable).
    event Paused(address account);
    /// @notice The tunnel was unpaused (same event as OpenZeppelin Pausable).
    event Unpaused(address account);
    /// @notice Governance fee limits changed.
    event FeeLimitsSet(uint16 maxFeeBps, uint64 maxFlatFee);
    /// @notice The withdrawal window changed.
    event WithdrawalWindowSet(uint64 window);
    /// @notice The deposit grace period (Bitcoin blocks) changed.
    event DepositGracePeriodSet(uint16 blocks);
    /// @notice The delay before a withdrawal fee raise takes effect changed.
    event FeeRaiseDelaySet(uint32 delay);
    /// @notice The collateral price changed: satoshis per 1e18 units of the collateral token.
    event CollateralPriceSet(uint128 satsPerUnit);
    /// @notice The collateral ratio, liquidation threshold and liquidation bonus changed (basis points).
    event CollateralRatiosSet(uint16 ratioBps, uint16 liquidationThresholdBps, uint16 liquidationBonusBps);
}
