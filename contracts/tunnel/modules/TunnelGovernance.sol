// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITunnelErrors} from "../ITunnelErrors.sol";
import {ITunnelEvents} from "../ITunnelEvents.sol";
import {TunnelState, TunnelConfig, Vault} from "../TunnelState.sol";
import {TunnelRules} from "./TunnelRules.sol";

/// @title TunnelGovernance
/// @notice The tunnel's settings and their bounds: fee limits, withdrawal window, deposit grace period, fee raise
///         delay, collateral price and ratios, vault confirmations, the global pause. Role checks stay in
///         BitcoinTunnel; this library checks values and records them. Internal (small), so compiled into the tunnel.
library TunnelGovernance {
    using TunnelRules for TunnelState;

    /// @notice Hard cap of the governance fee limit (50%).
    uint16 internal constant FEE_BPS_CAP = 5000;
    /// @notice Hard cap of the governance flat fee limit: 21 million BTC in satoshis (keeps every fee in uint64).
    uint64 internal constant FLAT_FEE_CAP = 21e14;
    /// @notice Bounds of a vault's confirmations.
    uint16 internal constant MAX_CONFIRMATIONS = 1000;
    /// @notice Bounds of the withdrawal window.
    uint64 internal constant MIN_WITHDRAWAL_WINDOW = 1 hours;
    uint64 internal constant MAX_WITHDRAWAL_WINDOW = 30 days;
    /// @notice Bounds of the deposit grace period, in Bitcoin blocks.
    uint16 internal constant MIN_GRACE_BLOCKS = 1;
    uint16 internal constant MAX_GRACE_BLOCKS = 2016;
    /// @notice Bounds of the withdrawal fee raise delay.
    uint32 internal constant MIN_FEE_RAISE_DELAY = 1 hours;
    uint32 internal constant MAX_FEE_RAISE_DELAY = 30 days;
    /// @notice Bounds of the collateral ratios.
    uint16 internal constant MIN_RATIO_BPS = 10_000;
    uint16 internal constant MAX_RATIO_BPS = 50_000;
    uint16 internal constant MAX_BONUS_BPS = 2_000;

    /// @notice The defaults of a new tunnel: fee limits 5% + 100,000 sat, withdrawal window 1 day, 144 blocks of
    ///         deposit grace (a day of Bitcoin), fee raises after 1 day, collateral 150% (liquidation below 120%,
    ///         5% bonus) at `price` satoshis per 1e18 collateral units.
    function initialize(TunnelState storage s, uint128 price) internal {
        setFeeLimits(s, 500, 100_000);
        setWithdrawalWindow(s, 1 days);
        setDepositGracePeriod(s, 144);
        setFeeRaiseDelay(s, 1 days);
        setCollateralPrice(s, price);
        setCollateralRatios(s, 15_000, 12_000, 500);
    }

    function setFeeLimits(TunnelState storage s, uint16 maxFeeBps, uint64 maxFlatFee) internal {
        if (maxFeeBps > FEE_BPS_CAP || maxFlatFee > FLAT_FEE_CAP) {
            revert ITunnelErrors.FeeLimitTooHigh(maxFeeBps, maxFlatFee);
        }
        s.config.maxFeeBps = maxFeeBps;
        s.config.maxFlatFee = maxFlatFee;
        emit ITunnelEvents.FeeLimitsSet(maxFeeBps, maxFlatFee);
    }

    function setWithdrawalWindow(TunnelState storage s, uint64 window) internal {
        if (window < MIN_WITHDRAWAL_WINDOW || window > MAX_WITHDRAWAL_WINDOW) {
            revert ITunnelErrors.InvalidWithdrawalWindow(window);
        }
        s.config.withdrawalWindow = uint32(window);
        emit ITunnelEvents.WithdrawalWindowSet(window);
    }

    function setDepositGracePeriod(TunnelState storage s, uint16 blocks) internal {
        if (blocks < MIN_GRACE_BLOCKS || blocks > MAX_GRACE_BLOCKS) revert ITunnelErrors.InvalidGracePeriod(blocks);
        s.config.depositGraceBlocks = blocks;
        emit ITunnelEvents.DepositGracePeriodSet(blocks);
    }

    function setFeeRaiseDelay(TunnelState storage s, uint32 delay) internal {
        if (delay < MIN_FEE_RAISE_DELAY || delay > MAX_FEE_RAISE_DELAY)
            revert ITunnelErrors.InvalidFeeRaiseDelay(delay);
        s.config.feeRaiseDelay = delay;
        emit ITunnelEvents.FeeRaiseDelaySet(delay);
    }

    function setCollateralPrice(TunnelState storage s, uint128 satsPerUnit) internal {
        if (satsPerUnit == 0) revert ITunnelErrors.InvalidCollateralPrice(satsPerUnit);
        s.config.collateralPrice = satsPerUnit;
        emit ITunnelEvents.CollateralPriceSet(satsPerUnit);
    }

    function setCollateralRatios(TunnelState storage s, uint16 ratio, uint16 threshold, uint16 bonus) internal {
        if (threshold < MIN_RATIO_BPS || ratio < threshold || ratio > MAX_RATIO_BPS || bonus > MAX_BONUS_BPS)
            revert ITunnelErrors.InvalidCollateralRatios(ratio, threshold, bonus);
        TunnelConfig storage c = s.config;
        c.collateralRatioBps = ratio;
        c.liquidationThresholdBps = threshold;
        c.liquidationBonusBps = bonus;
        emit ITunnelEvents.CollateralRatiosSet(ratio, threshold, bonus);
    }

    function setVaultConfirmations(TunnelState storage s, uint32 vaultId, uint16 confirmations) internal {
        Vault storage v = s.existing(vaultId);
        if (confirmations == 0 || confirmations > MAX_CONFIRMATIONS) {
            revert ITunnelErrors.InvalidConfirmations(confirmations);
        }
        v.confirmations = confirmations;
        emit ITunnelEvents.VaultConfirmationsSet(vaultId, confirmations);
    }

    function setPaused(TunnelState storage s, bool paused) internal {
        if (s.cursor.paused == paused) {
            if (paused) revert ITunnelErrors.EnforcedPause();
            revert ITunnelErrors.ExpectedPause();
        }
        s.cursor.paused = paused;
        if (paused) emit ITunnelEvents.Paused(msg.sender);
        else emit ITunnelEvents.Unpaused(msg.sender);
    }
}
