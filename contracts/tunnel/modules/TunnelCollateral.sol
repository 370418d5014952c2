// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {TunnelConfig, Vault, VaultStatus} from "../TunnelState.sol";

/// @title TunnelCollateral
/// @notice Valuation of a vault's collateral against its custody, at the governance price (satoshis per 1e18 units
///         of the collateral token) and ratios. Amounts in satoshis are uint64; products are taken in uint256.
library TunnelCollateral {
    /// @dev Units the price is quoted per.
    uint256 internal constant PRICE_UNIT = 1e18;
    uint256 internal constant BPS = 10_000;

    /// @notice What `collateral` units are worth in satoshis.
    function worth(TunnelConfig storage c, uint256 collateral) internal view returns (uint256) {
        return (collateral * c.collateralPrice) / PRICE_UNIT;
    }

    /// @notice Units worth `sats` * (BPS + bonusBps) / BPS, rounded up.
    function unitsFor(TunnelConfig storage c, uint256 sats, uint256 bonusBps) internal view returns (uint256) {
        uint256 num = sats * (BPS + bonusBps) * PRICE_UNIT;
        uint256 den = BPS * c.collateralPrice;
        return (num + den - 1) / den;
    }

    /// @notice Units that back `custody` satoshis at the collateral ratio, rounded up.
    function required(TunnelConfig storage c, uint256 custody) internal view returns (uint256) {
        if (custody == 0) return 0;
        return unitsFor(c, custody, uint256(c.collateralRatioBps) - BPS);
    }

    /// @notice Whether the vault's collateral backs its custody at the collateral ratio.
    function isBacked(TunnelConfig storage c, Vault storage v) internal view returns (bool) {
        return worth(c, v.collateral) * BPS >= uint256(v.custody) * c.collateralRatioBps;
    }

    /// @notice Collateral worth / custody in basis points (type(uint256).max when there is no custody).
    function ratioBps(TunnelConfig storage c, Vault storage v) internal view returns (uint256) {
        uint256 custody = v.custody;
        if (custody == 0) return type(uint256).max;
        return (worth(c, v.collateral) * BPS) / custody;
    }

    /// @notice Whether anyone may liquidate the vault: it was slashed, or its ratio is below the threshold.
    function isLiquidatable(TunnelConfig storage c, Vault storage v) internal view returns (bool) {
        if (v.status == VaultStatus.Slashed) return true;
        return worth(c, v.collateral) * BPS < uint256(v.custody) * c.liquidationThresholdBps;
    }
}
