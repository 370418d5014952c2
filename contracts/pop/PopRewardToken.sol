// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title PopRewardToken
/// @notice The ERC-20 in which PoP miners are rewarded (18 decimals, like Hemi's HEMI). Only the PopRewards
///         contract that deployed it mints; nothing else creates supply.
contract PopRewardToken is ERC20 {
    /// @notice The PopRewards contract allowed to mint (the deployer).
    address public immutable minter;

    /// @notice `caller` is not the minter.
    error NotMinter(address caller);

    /// @notice Deploys the token; the deploying contract becomes its minter.
    constructor() ERC20("Hemi PoP Reward", "popHEMI") {
        minter = msg.sender;
    }

    /// @notice Mints `amount` to `to`. Minter only.
    /// @param to The recipient.
    /// @param amount Token units (18 decimals).
    function mint(address to, uint256 amount) external {
        if (msg.sender != minter) revert NotMinter(msg.sender);
        _mint(to, amount);
    }
}
