// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {HemiBTC} from "../HemiBTC.sol";
import {ITunnelErrors} from "../ITunnelErrors.sol";
import {ITunnelEvents} from "../ITunnelEvents.sol";
import {TunnelState, TunnelConfig, Vault} from "../TunnelState.sol";
import {TunnelCollateral} from "./TunnelCollateral.sol";
import {TunnelRules} from "./TunnelRules.sol";

/// @title TunnelLiquidation
/// @notice Making holders whole when a vault fails: when a vault was slashed (its operator did not pay a
///         withdrawal) or its collateral fell below the liquidation threshold, anyone may burn hemiBTC the vault
///         backs and take its collateral at a discount. An external library: BitcoinTunnel delegates to it.
library TunnelLiquidation {
    using SafeERC20 for IERC20;
    using TunnelCollateral for TunnelConfig;
    using TunnelRules for TunnelState;

    /// @notice Burns `sats` hemiBTC of the caller and pays it collateral worth sats * (1 + bonus) of the vault
    ///         (all the vault has beyond what its pending withdrawals may claim, if less); the vault's custody is
    ///         written down by `sats`.
    function liquidate(
        TunnelState storage s,
        HemiBTC token,
        IERC20 collateralToken,
        uint32 vaultId,
        uint64 sats
    ) external returns (uint256 units) {
        Vault storage v = s.existing(vaultId);
        if (sats == 0) revert ITunnelErrors.ZeroAmount();
        TunnelConfig storage c = s.config;
        if (!c.isLiquidatable(v)) revert ITunnelErrors.NotLiquidatable(vaultId, v.status, c.ratioBps(v));
        uint64 outstanding = outstandingOf(v);
        if (sats > outstanding) revert ITunnelErrors.LiquidationTooLarge(vaultId, sats, outstanding);
        units = c.unitsFor(sats, c.liquidationBonusBps);
        uint256 held = v.collateral;
        // Pending withdrawals keep the collateral that makes them whole if challenged.
        uint256 reserved = c.unitsFor(v.pending, 0);
        uint256 available = held > reserved ? held - reserved : 0;
        if (units > available) units = available;
        token.burn(msg.sender, sats);
        unchecked {
            v.custody -= sats; // sats <= outstanding <= custody
            v.collateral = held - units;
        }
        if (units != 0) collateralToken.safeTransfer(msg.sender, units);
        emit ITunnelEvents.VaultLiquidated(vaultId, msg.sender, sats, units);
    }

    /// @notice The hemiBTC a vault backs in circulation: custody - pending - accrued fees.
    function outstandingOf(Vault storage v) internal view returns (uint64) {
        uint256 custody = v.custody;
        uint256 owed = uint256(v.pending) + v.accruedFees;
        return custody > owed ? uint64(custody - owed) : 0;
    }
}
