// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {BitcoinLightClient} from "../../bitcoin/BitcoinLightClient.sol";
import {HemiBTC} from "../HemiBTC.sol";
import {ITunnelErrors} from "../ITunnelErrors.sol";
import {ITunnelEvents} from "../ITunnelEvents.sol";
import {TunnelState, TunnelConfig, Vault, VaultBacking, VaultStatus, VaultTerms} from "../TunnelState.sol";
import {TunnelCollateral} from "./TunnelCollateral.sol";
import {TunnelRules} from "./TunnelRules.sol";

/// @title TunnelVaults
/// @notice The vault registry and its collateral: creating vaults, their terms, pausing and closing, adding and
///         releasing collateral, claiming fees. An external library: BitcoinTunnel delegates to it with its state.
/// @dev Collateral is in a token that is not hemiBTC; every satoshi of custody must be backed by collateral worth
///      `collateralRatioBps` of it at the governance price. Collateral is released only above that requirement, so
///      it is released as custody drains. A vault whose collateral no longer backs its custody stops taking new
///      deposits (TunnelDeposits caps it) until collateral is added.
library TunnelVaults {
    using SafeERC20 for IERC20;
    using TunnelCollateral for TunnelConfig;
    using TunnelRules for TunnelState;

    /// @notice Confirmations a new vault requires.
    uint16 internal constant DEFAULT_CONFIRMATIONS = 6;

    /// @notice Creates a Live vault operated by the caller (the tunnel checks OPERATOR_ROLE).
    function createVault(
        TunnelState storage s,
        bytes calldata script,
        VaultTerms calldata terms
    ) external returns (uint32 vaultId) {
        if (!TunnelRules.isPayableScript(script)) revert ITunnelErrors.UnsupportedCustodyScript(script);
        bytes32 h = keccak256(script);
        uint32 taken = s.vaultOfScript[h];
        if (taken != 0) revert ITunnelErrors.CustodyScriptTaken(h, taken);
        vaultId = ++s.vaultCount;
        Vault storage v = s.vaults[vaultId];
        v.status = VaultStatus.Live;
        v.confirmations = DEFAULT_CONFIRMATIONS;
        v.operator = msg.sender;
        v.custodyScriptHash = h;
        s.vaultOfScript[h] = vaultId;
        emit ITunnelEvents.VaultCreated(vaultId, msg.sender, script);
        _setTerms(s, vaultId, v, terms, true);
        emit ITunnelEvents.VaultConfirmationsSet(vaultId, DEFAULT_CONFIRMATIONS);
    }

    /// @notice Changes a vault's terms (vault operator only). Deposit fees and the minimum may only go down. A
    ///         withdrawal fee cut applies at once; a raise is scheduled for `feeRaiseDelay` seconds later.
    function setVaultTerms(TunnelState storage s, uint32 vaultId, VaultTerms calldata terms) external {
        _setTerms(s, vaultId, s.operated(vaultId), terms, false);
    }

    /// @notice Pauses a Live vault or resumes a Paused one (`pauser`: the caller holds PAUSER_ROLE).
    function setVaultPaused(TunnelState storage s, uint32 vaultId, bool pause_, bool pauser) external {
        Vault storage v = s.existing(vaultId);
        bool operator = msg.sender == v.operator;
        if (!pauser && !operator) revert ITunnelErrors.NotOperatorOrPauser(vaultId, msg.sender);
        VaultStatus from = pause_ ? VaultStatus.Live : VaultStatus.Paused;
        if (v.status != from) revert ITunnelErrors.BadVaultStatus(vaultId, v.status);
        if (!pause_ && !pauser && v.pausedByGovernance) revert ITunnelErrors.PausedByGovernance(vaultId);
        VaultStatus to = pause_ ? VaultStatus.Paused : VaultStatus.Live;
        v.status = to;
        v.pausedByGovernance = pause_ && !operator;
        emit ITunnelEvents.VaultStatusChanged(vaultId, to);
    }

    /// @notice Starts closing a Live or Paused vault (irreversible; operator only): deposits in Bitcoin blocks up to
    ///         the light client's best height plus the grace period are still minted (deposits already sent).
    function closeVault(TunnelState storage s, BitcoinLightClient lightClient, uint32 vaultId) external {
        Vault storage v = s.operated(vaultId);
        if (v.status != VaultStatus.Live && v.status != VaultStatus.Paused) {
            revert ITunnelErrors.BadVaultStatus(vaultId, v.status);
        }
        if (v.pausedByGovernance) revert ITunnelErrors.PausedByGovernance(vaultId);
        (, uint32 best) = lightClient.bestBlock();
        uint32 until = best + s.config.depositGraceBlocks;
        uint32 capped = v.depositsUntilHeight;
        // A vault already capped (under-collateralised) keeps its earlier end.
        if (capped != 0 && capped < until) until = capped;
        v.status = VaultStatus.Closing;
        v.depositsUntilHeight = until;
        emit ITunnelEvents.VaultStatusChanged(vaultId, VaultStatus.Closing);
        emit ITunnelEvents.VaultDepositWindowSet(vaultId, until);
    }

    /// @notice Adds collateral to a vault (anyone; pulled with transferFrom). A capped Live or Paused vault whose
    ///         collateral backs its custody again takes deposits without limit again.
    function addCollateral(TunnelState storage s, IERC20 collateralToken, uint32 vaultId, uint256 amount) external {
        Vault storage v = s.existing(vaultId);
        if (amount == 0) revert ITunnelErrors.ZeroAmount();
        VaultStatus st = v.status;
        if (st == VaultStatus.Slashed) revert ITunnelErrors.BadVaultStatus(vaultId, st);
        uint256 total = v.collateral + amount;
        v.collateral = total;
        collateralToken.safeTransferFrom(msg.sender, address(this), amount);
        emit ITunnelEvents.CollateralAdded(vaultId, msg.sender, amount, total);
        if (st != VaultStatus.Closing && v.depositsUntilHeight != 0 && s.config.isBacked(v)) {
            v.depositsUntilHeight = 0;
            emit ITunnelEvents.VaultDepositWindowSet(vaultId, 0);
        }
    }

    /// @notice Returns collateral the vault's custody does not need (operator only; not for a Slashed vault).
    function withdrawCollateral(
        TunnelState storage s,
        IERC20 collateralToken,
        uint32 vaultId,
        uint256 amount,
        address to
    ) external {
        Vault storage v = s.operated(vaultId);
        if (to == address(0)) revert ITunnelErrors.ZeroAddress();
        if (amount == 0) revert ITunnelErrors.ZeroAmount();
        if (v.status == VaultStatus.Slashed) revert ITunnelErrors.BadVaultStatus(vaultId, VaultStatus.Slashed);
        uint256 held = v.collateral;
        uint256 free = _free(s.config, v);
        if (amount > free) revert ITunnelErrors.CollateralLocked(vaultId, amount, free);
        unchecked {
            held -= amount; // amount <= free <= held
        }
        v.collateral = held;
        collateralToken.safeTransfer(to, amount);
        emit ITunnelEvents.CollateralWithdrawn(vaultId, to, amount, held);
    }

    /// @notice Mints a vault's accrued fees to `to` (operator only; not for a Slashed vault).
    function claimFees(TunnelState storage s, HemiBTC token, uint32 vaultId, address to) external {
        Vault storage v = s.operated(vaultId);
        if (to == address(0)) revert ITunnelErrors.ZeroAddress();
        if (v.status == VaultStatus.Slashed) revert ITunnelErrors.BadVaultStatus(vaultId, VaultStatus.Slashed);
        uint64 amount = v.accruedFees;
        if (amount == 0) revert ITunnelErrors.ZeroAmount();
        v.accruedFees = 0;
        token.mint(to, amount);
        emit ITunnelEvents.FeesClaimed(vaultId, to, amount);
    }

    /// @notice How well a vault is backed (see VaultBacking).
    function backing(TunnelState storage s, uint32 vaultId) external view returns (VaultBacking memory b) {
        Vault storage v = s.existing(vaultId);
        TunnelConfig storage c = s.config;
        uint256 custody = v.custody;
        b.collateralSats = c.worth(v.collateral);
        b.requiredCollateral = c.required(custody);
        b.freeCollateral = _free(c, v);
        b.ratioBps = c.ratioBps(v);
        b.backed = c.isBacked(v);
        b.liquidatable = c.isLiquidatable(v);
        uint256 backs = (b.collateralSats * TunnelCollateral.BPS) / c.collateralRatioBps;
        if (backs > custody) {
            uint256 room = backs - custody;
            b.depositCapacity = room > type(uint64).max ? type(uint64).max : uint64(room);
        }
    }

    /// @dev Collateral above what backs the custody at the ratio (none for a Slashed vault).
    function _free(TunnelConfig storage c, Vault storage v) private view returns (uint256) {
        if (v.status == VaultStatus.Slashed) return 0;
        uint256 held = v.collateral;
        uint256 need = c.required(v.custody);
        return held > need ? held - need : 0;
    }

    /// @dev Checks and stores a vault's terms; `initial` (a new vault) lets every term start anywhere.
    function _setTerms(
        TunnelState storage s,
        uint32 vaultId,
        Vault storage v,
        VaultTerms calldata t,
        bool initial
    ) private {
        if (
            !initial &&
            (t.depositFeeBps > v.depositFeeBps || t.depositFlatFee > v.depositFlatFee || t.minDeposit > v.minDeposit)
        ) revert ITunnelErrors.DepositTermsRaised(vaultId);
        TunnelConfig storage c = s.config;
        uint16 maxBps = c.maxFeeBps;
        uint64 maxFlat = c.maxFlatFee;
        if (t.depositFeeBps > maxBps || t.depositFlatFee > maxFlat) {
            revert ITunnelErrors.FeeAboveLimit(t.depositFeeBps, t.depositFlatFee, maxBps, maxFlat);
        }
        if (t.withdrawalFeeBps > maxBps || t.withdrawalFlatFee > maxFlat) {
            revert ITunnelErrors.FeeAboveLimit(t.withdrawalFeeBps, t.withdrawalFlatFee, maxBps, maxFlat);
        }
        v.depositFeeBps = t.depositFeeBps;
        v.depositFlatFee = t.depositFlatFee;
        v.minDeposit = t.minDeposit;
        _setWithdrawalFee(c, vaultId, v, t.withdrawalFeeBps, t.withdrawalFlatFee, initial);
        emit ITunnelEvents.VaultTermsSet(vaultId, t);
    }

    /// @dev A cut (or the initial fee) applies now and cancels a scheduled raise; a raise of either part waits
    ///      `feeRaiseDelay` seconds (a raise whose time has come is first made current).
    function _setWithdrawalFee(
        TunnelConfig storage c,
        uint32 vaultId,
        Vault storage v,
        uint16 bps,
        uint64 flat,
        bool initial
    ) private {
        uint48 at = v.withdrawalFeeRaiseAt;
        if (at != 0 && block.timestamp >= at) {
            v.withdrawalFeeBps = v.nextWithdrawalFeeBps;
            v.withdrawalFlatFee = v.nextWithdrawalFlatFee;
        }
        if (initial || (bps <= v.withdrawalFeeBps && flat <= v.withdrawalFlatFee)) {
            v.withdrawalFeeBps = bps;
            v.withdrawalFlatFee = flat;
            v.withdrawalFeeRaiseAt = 0;
            v.nextWithdrawalFeeBps = 0;
            v.nextWithdrawalFlatFee = 0;
            return;
        }
        uint48 effectiveAt = uint48(block.timestamp + c.feeRaiseDelay);
        v.nextWithdrawalFeeBps = bps;
        v.nextWithdrawalFlatFee = flat;
        v.withdrawalFeeRaiseAt = effectiveAt;
        emit ITunnelEvents.WithdrawalFeeRaiseScheduled(vaultId, bps, flat, effectiveAt);
    }
}
