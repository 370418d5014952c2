// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHeader} from "./BitcoinHeader.sol";

/// @title BitcoinDifficulty
/// @notice The nBits a block must carry under each network's difficulty rules, and Testnet4's time-warp rule.
/// @dev Network codes match BitcoinLightClient.Network: 0 Mainnet, 1 Testnet (testnet3), 2 Regtest, 3 Testnet4.
library BitcoinDifficulty {
    uint8 internal constant MAINNET = 0;
    uint8 internal constant TESTNET = 1;
    uint8 internal constant REGTEST = 2;
    uint8 internal constant TESTNET4 = 3;
    /// @notice Testnets: a block more than 20 minutes after its parent may (and then must) use the minimum difficulty.
    uint256 internal constant MIN_DIFFICULTY_GAP = 20 minutes;
    /// @notice BIP94: the first block of an epoch may be at most this much older than its parent.
    uint256 internal constant MAX_TIMEWARP = 600;

    /// @notice BIP94 time-warp rule: the first block of an epoch is more than 10 minutes older than its parent.
    error TimeWarp(uint32 height, uint32 time, uint32 parentTime);

    /// @notice The context of a parent block that the rules read.
    struct Parent {
        uint32 bits; // the parent's own nBits
        uint32 time; // the parent's timestamp
        uint32 epochBits; // nBits of the first block of the parent's epoch (testnets: the "last normal" nBits)
        uint32 epochStartTime; // timestamp of the first block of the parent's epoch
    }

    /// @notice Whether the network keeps per-block difficulty (minimum-difficulty blocks break "one nBits per epoch").
    function hasMinDifficultyBlocks(uint8 network) internal pure returns (bool) {
        return network == TESTNET || network == TESTNET4;
    }

    /// @notice The nBits the child of `parent` at `childHeight` with timestamp `childTime` must carry.
    /// @dev Mainnet: retarget every 2016 blocks from the last block's nBits. Regtest: never changes. Testnet3: as
    ///      Mainnet, plus the 20-minute rule (a late block carries the limit, any other the epoch's nBits). Testnet4
    ///      (BIP94): as Testnet3, but the retarget starts from the nBits of the epoch's FIRST block, so an epoch that
    ///      ends on a minimum-difficulty block does not reset the difficulty; and the time-warp rule (checkTimeWarp).
    function expectedBits(
        uint8 network,
        Parent memory parent,
        uint32 childHeight,
        uint32 childTime,
        uint256 powLimit
    ) internal pure returns (uint32) {
        if (network == REGTEST) return parent.bits;
        if (childHeight % BitcoinHeader.RETARGET_INTERVAL == 0) {
            uint32 base = network == TESTNET4 ? parent.epochBits : parent.bits;
            return BitcoinHeader.retarget(base, parent.epochStartTime, parent.time, powLimit);
        }
        if (hasMinDifficultyBlocks(network)) {
            return
                uint256(childTime) > uint256(parent.time) + MIN_DIFFICULTY_GAP
                    ? BitcoinHeader.POW_LIMIT_BITS_MAINNET
                    : parent.epochBits;
        }
        return parent.bits;
    }

    /// @notice Testnet4 (BIP94): reverts when the first block of an epoch is more than 600 s older than its parent.
    function checkTimeWarp(uint8 network, uint32 childHeight, uint32 childTime, uint32 parentTime) internal pure {
        if (
            network == TESTNET4 &&
            childHeight % BitcoinHeader.RETARGET_INTERVAL == 0 &&
            uint256(childTime) + MAX_TIMEWARP < parentTime
        ) revert TimeWarp(childHeight, childTime, parentTime);
    }
}
