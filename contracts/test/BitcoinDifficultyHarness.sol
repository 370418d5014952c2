// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinDifficulty} from "../bitcoin/BitcoinDifficulty.sol";

/// @title BitcoinDifficultyHarness
/// @notice Exposes BitcoinDifficulty for tests.
contract BitcoinDifficultyHarness {
    /// @notice See BitcoinDifficulty.expectedBits.
    function expectedBits(
        uint8 network,
        BitcoinDifficulty.Parent calldata parent,
        uint32 childHeight,
        uint32 childTime,
        uint256 powLimit
    ) external pure returns (uint32) {
        return BitcoinDifficulty.expectedBits(network, parent, childHeight, childTime, powLimit);
    }

    /// @notice See BitcoinDifficulty.checkTimeWarp.
    function checkTimeWarp(uint8 network, uint32 childHeight, uint32 childTime, uint32 parentTime) external pure {
        BitcoinDifficulty.checkTimeWarp(network, childHeight, childTime, parentTime);
    }
}
