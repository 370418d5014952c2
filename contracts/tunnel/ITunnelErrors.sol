// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {VaultStatus, WithdrawalStatus} from "./TunnelState.sol";

/// @title ITunnelErrors
/// @notice Every custom error of BitcoinTunnel and its modules (they revert with `ITunnelErrors.X`); the tunnel
///         inherits this interface so that its ABI decodes them all.
interface ITunnelErrors {
    /// @notice The tunnel is paused (same error as OpenZeppelin Pausable).
    error EnforcedPause();
    /// @notice The tunnel is not paused (same error as OpenZeppelin Pausable).
    error ExpectedPause();
    /// @notice No vault has that id.
    error UnknownVault(uint32 vaultId);
    /// @notice The caller is not the vault's operator.
    error NotVaultOperator(uint32 vaultId, address caller);
    /// @notice The caller is neither the vault's operator nor a PAUSER_ROLE holder.
    error NotOperatorOrPauser(uint32 vaultId, address caller);
    /// @notice The vault is paused by governance; only PAUSER_ROLE resumes it.
    error PausedByGovernance(uint32 vaultId);
    /// @notice The action needs another vault status.
    error BadVaultStatus(uint32 vaultId, VaultStatus status);
    /// @notice A custody script must be P2WPKH, P2WSH, P2TR, P2PKH or P2SH.
    error UnsupportedCustodyScript(bytes script);
    /// @notice The custody script (keccak256 `scriptHash`) already belongs to a vault.
    error CustodyScriptTaken(bytes32 scriptHash, uint32 vaultId);
    /// @notice A fee exceeds the governance limits.
    error FeeAboveLimit(uint256 feeBps, uint256 flatFee, uint256 maxFeeBps, uint256 maxFlatFee);
    /// @notice A deposit fee or the minimum deposit would go up (deposits in flight would pay more or be stranded).
    error DepositTermsRaised(uint32 vaultId);
    /// @notice A governance fee limit above FEE_BPS_CAP or FLAT_FEE_CAP.
    error FeeLimitTooHigh(uint16 maxFeeBps, uint64 maxFlatFee);
    /// @notice Confirmations outside 1..MAX_CONFIRMATIONS.
    error InvalidConfirmations(uint16 confirmations);
    /// @notice Withdrawal window outside MIN_WITHDRAWAL_WINDOW..MAX_WITHDRAWAL_WINDOW.
    error InvalidWithdrawalWindow(uint64 window);
    /// @notice Deposit grace period outside MIN_GRACE_BLOCKS..MAX_GRACE_BLOCKS.
    error InvalidGracePeriod(uint16 blocks);
    /// @notice Fee raise delay outside MIN_FEE_RAISE_DELAY..MAX_FEE_RAISE_DELAY.
    error InvalidFeeRaiseDelay(uint32 delay);
    /// @notice A collateral price of zero.
    error InvalidCollateralPrice(uint128 satsPerUnit);
    /// @notice Ratios out of bounds: 10000 <= threshold <= ratio <= 50000, bonus <= 2000.
    error InvalidCollateralRatios(uint16 ratioBps, uint16 liquidationThresholdBps, uint16 liquidationBonusBps);
    /// @notice An amount of zero where a positive one is needed.
    error ZeroAmount();
    /// @notice A zero address where an account is needed.
    error ZeroAddress();

    /// @notice The deposit output index is past the transaction's outputs.
    error OutputIndexOutOfRange(uint256 index, uint256 count);
    /// @notice The deposit output does not pay any vault's custody script.
    error NotACustodyScript(bytes32 scriptHash);
    /// @notice The vault does not take this deposit (status, or a block after its deposit window).
    error VaultNotAcceptingDeposits(uint32 vaultId, VaultStatus status, uint32 blockHeight);
    /// @notice The deposit output is below the vault's minimum.
    error DepositBelowMinimum(uint32 vaultId, uint64 sats, uint64 minDeposit);
    /// @notice The transaction has no OP_RETURN output.
    error MissingOpReturn();
    /// @notice The transaction has more than one OP_RETURN output.
    error MultipleOpReturns(uint256 firstIndex, uint256 secondIndex);
    /// @notice The OP_RETURN output is not exactly the expected single push (20-byte recipient or 8-byte id).
    error MalformedOpReturn(uint256 outputIndex);
    /// @notice The deposit's OP_RETURN names the zero address.
    error ZeroRecipient();
    /// @notice This (txid, vout) was already minted.
    error DepositAlreadyConfirmed(bytes32 txid, uint32 vout, uint64 sequence);
    /// @notice Batch arrays of different lengths, or an empty batch.
    error BadBatch(uint256 txs, uint256 outputIndexes);
    /// @notice Batch item `index` is not after the previous one in (txIndex, vout) order.
    error BatchNotInBlockOrder(uint256 index);
    /// @notice A transaction index that cannot be in a block.
    error TxIndexOutOfRange(uint256 txIndex);

    /// @notice A Bitcoin transaction that does not parse (BitcoinTxOutputs' error, declared here for decoding).
    error TxMalformed(uint256 offset);
    /// @notice A collateral token transfer failed (OpenZeppelin SafeERC20's error, declared here for decoding).
    error SafeERC20FailedOperation(address token);

    /// @notice A withdrawal to a script kind the tunnel does not pay (or to a custody script).
    error UnsupportedWithdrawalScript(bytes script);
    /// @notice The payout after fees would be under DUST_LIMIT.
    error WithdrawalTooSmall(uint64 sats, uint64 fee, uint64 dustLimit);
    /// @notice The vault's fee for this withdrawal is above the most the requester accepted.
    error FeeAboveMax(uint32 vaultId, uint64 fee, uint64 maxFee);
    /// @notice No vault can serve the amount.
    error NoVaultCanServe(uint64 sats);
    /// @notice The vault's custody (minus pending) cannot cover the amount.
    error InsufficientCustody(uint32 vaultId, uint64 available, uint64 sats);
    /// @notice The vault's collateral (worth `collateralSats` at the governance price) cannot cover `neededSats`.
    error InsufficientCollateral(uint32 vaultId, uint256 collateralSats, uint256 neededSats);
    /// @notice Only `free` units of the vault's collateral are not needed to back its custody.
    error CollateralLocked(uint32 vaultId, uint256 requested, uint256 free);
    /// @notice The withdrawal is not pending.
    error WithdrawalNotPending(uint64 id, WithdrawalStatus status);
    /// @notice The payout's OP_RETURN carries another id.
    error PayoutIdMismatch(uint64 expected, uint64 actual);
    /// @notice No output pays the withdrawal's script.
    error PayoutNotFound(uint64 id);
    /// @notice The output paying the withdrawal's script has the wrong value.
    error PayoutAmountMismatch(uint64 id, uint64 expected, uint64 actual);
    /// @notice More than one output pays the withdrawal's script.
    error PayoutOutputRepeated(uint64 id, uint256 outputIndex);
    /// @notice An output is neither the payout, the OP_RETURN nor change to the custody script.
    error UnexpectedPayoutOutput(uint64 id, uint256 outputIndex);
    /// @notice The withdrawal's deadline has not passed.
    error DeadlineNotPassed(uint64 id, uint64 deadline, uint256 timestamp);
    /// @notice The vault is neither Slashed nor below the liquidation threshold (`ratioBps` is its collateral ratio).
    error NotLiquidatable(uint32 vaultId, VaultStatus status, uint256 ratioBps);
    /// @notice A liquidation larger than the hemiBTC the vault backs (`outstanding`).
    error LiquidationTooLarge(uint32 vaultId, uint64 sats, uint64 outstanding);
}
