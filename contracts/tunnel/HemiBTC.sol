// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";

/// @title HemiBTC
/// @notice The tunnel's representation of bitcoin on the EVM chain: 8 decimals, 1 unit = 1 satoshi.
/// @dev ERC-20 with ERC-2612 permit. Only the tunnel that deployed it mints and burns; mints and burns show as
///      the ERC-20 `Transfer` events from and to the zero address.
contract HemiBTC is ERC20, ERC20Permit {
    /// @notice The BitcoinTunnel allowed to mint and burn (the deployer).
    address public immutable tunnel;

    /// @notice `caller` is not the tunnel.
    error NotTunnel(address caller);

    /// @notice Deploys the token; the deploying contract becomes its tunnel.
    constructor() ERC20("Hemi Bitcoin", "hemiBTC") ERC20Permit("Hemi Bitcoin") {
        tunnel = msg.sender;
    }

    modifier onlyTunnel() {
        if (msg.sender != tunnel) revert NotTunnel(msg.sender);
        _;
    }

    /// @notice 8, like bitcoin: one unit is one satoshi.
    function decimals() public pure override returns (uint8) {
        return 8;
    }

    /// @notice Mints `amount` satoshis of hemiBTC to `to`. Tunnel only.
    /// @param to The recipient.
    /// @param amount Satoshis.
    function mint(address to, uint256 amount) external onlyTunnel {
        _mint(to, amount);
    }

    /// @notice Burns `amount` satoshis of hemiBTC held by `from`. Tunnel only (it burns only what a caller of the
    ///         tunnel asked to withdraw from its own balance).
    /// @param from The holder.
    /// @param amount Satoshis.
    function burn(address from, uint256 amount) external onlyTunnel {
        _burn(from, amount);
    }
}
