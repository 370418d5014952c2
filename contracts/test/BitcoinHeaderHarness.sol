// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHeader} from "../bitcoin/BitcoinHeader.sol";
import {BitcoinMerkle} from "../bitcoin/BitcoinMerkle.sol";

/// @title BitcoinHeaderHarness
/// @notice Exposes BitcoinHeader and BitcoinMerkle for tests.
contract BitcoinHeaderHarness {
    /// @notice See BitcoinHeader.parse.
    function parse(bytes memory raw) external view returns (BitcoinHeader.Header memory) {
        return BitcoinHeader.parse(raw);
    }

    /// @notice See BitcoinHeader.decodeBits.
    function decodeBits(uint32 bits) external pure returns (uint256 target, bool negative, bool overflow) {
        return BitcoinHeader.decodeBits(bits);
    }

    /// @notice See BitcoinHeader.targetFromBits.
    function targetFromBits(uint32 bits, uint256 powLimit) external pure returns (uint256) {
        return BitcoinHeader.targetFromBits(bits, powLimit);
    }

    /// @notice See BitcoinHeader.encodeBits.
    function encodeBits(uint256 target) external pure returns (uint32) {
        return BitcoinHeader.encodeBits(target);
    }

    /// @notice See BitcoinHeader.workFromTarget.
    function workFromTarget(uint256 target) external pure returns (uint256) {
        return BitcoinHeader.workFromTarget(target);
    }

    /// @notice See BitcoinHeader.retarget (mainnet proof-of-work limit).
    function retarget(uint32 lastBits, uint256 firstTimestamp, uint256 lastTimestamp) external pure returns (uint32) {
        return BitcoinHeader.retarget(lastBits, firstTimestamp, lastTimestamp, BitcoinHeader.POW_LIMIT_MAINNET);
    }

    /// @notice See BitcoinMerkle.computeRoot.
    function computeRoot(bytes32 leaf, bytes calldata siblings, uint256 index) external view returns (bytes32) {
        return BitcoinMerkle.computeRoot(leaf, siblings, index);
    }
}
