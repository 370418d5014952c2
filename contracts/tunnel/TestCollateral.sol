// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title TestCollateral
/// @notice A collateral token for local deployments only (regtest devnets, tests, the demo): an 18-decimal ERC-20
///         that anyone may mint. A real deployment names a real ERC-20 as the tunnel's collateral instead.
contract TestCollateral is ERC20 {
    /// @notice Deploys the token with no supply.
    constructor() ERC20("Test Collateral", "tCOL") {}

    /// @notice Mints `amount` units to `to` (anyone: a faucet for local deployments).
    /// @param to The recipient.
    /// @param amount Units (18 decimals).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}
