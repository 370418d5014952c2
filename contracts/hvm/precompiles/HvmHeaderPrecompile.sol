// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {HvmPrecompile} from "./HvmPrecompile.sol";

/// @title HvmHeaderPrecompile
/// @notice Base of 0x44 and 0x45: the 116-byte header record height (4 BE) | block hash (32, display) |
///         version (4 BE) | previous block hash (32, display) | merkle root (32, display) | time (4 BE) |
///         bits (4 BE) | nonce (4 BE).
abstract contract HvmHeaderPrecompile is HvmPrecompile {
    constructor(BitcoinTxIndex index_) HvmPrecompile(index_) {}

    /// @dev The record of the canonical indexed header at `height` (at most best - lag), or empty.
    function _record(uint32 height) internal view returns (bytes memory) {
        (bool found, bytes memory h) = _index.headerAt(height);
        if (!found) return "";
        // Every field of the raw header is little-endian or internal order: reversing each gives BE / display.
        return
            abi.encodePacked(
                height,
                _flip(sha256(abi.encodePacked(sha256(h)))),
                _rev(h, 0, 4),
                _flip(_at(h, 4)),
                _flip(_at(h, 36)),
                _rev(h, 68, 4),
                _rev(h, 72, 4),
                _rev(h, 76, 4)
            );
    }

    function _at(bytes memory b, uint256 off) private pure returns (bytes32 w) {
        assembly ("memory-safe") {
            w := mload(add(add(b, 0x20), off))
        }
    }

    /// @dev The `n` bytes at `off`, reversed.
    function _rev(bytes memory b, uint256 off, uint256 n) private pure returns (bytes4 out) {
        uint32 v;
        for (uint256 i; i < n; ++i) v |= uint32(uint8(b[off + i])) << uint32(8 * i);
        return bytes4(v);
    }
}
