// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHeader} from "../../bitcoin/BitcoinHeader.sol";
import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";

/// @title HvmPrecompile
/// @notice Base of the hVM precompile emulators: raw bytes in through the fallback, raw bytes out, no other entry
///         point (no receive, no function a 4- or 32-byte input could select). The three outcomes of Hemi's
///         precompiles: success with data, success with empty data, and a call failure that burns all the gas
///         forwarded to the call (the INVALID opcode, as a Go error does in op-geth).
abstract contract HvmPrecompile {
    /// @dev The index every answer comes from.
    BitcoinTxIndex internal immutable _index;

    constructor(BitcoinTxIndex index_) {
        _index = index_;
    }

    /// @dev Call failure burning all forwarded gas.
    function _fail() internal pure {
        assembly {
            invalid()
        }
    }

    /// @dev Display-order hash at `offset` of the input to internal order (and back: the reversal is its own inverse).
    function _flip(bytes32 h) internal pure returns (bytes32) {
        return bytes32(BitcoinHeader.reverse256(h));
    }

    /// @dev Display-order txid at the start of the input, in internal order.
    function _txidOf(bytes calldata input) internal pure returns (bytes32) {
        return _flip(bytes32(input[0:32]));
    }

    /// @dev Big-endian integer of input[from:from+size].
    function _be(bytes calldata input, uint256 from, uint256 size) internal pure returns (uint256 v) {
        for (uint256 i; i < size; ++i) v = (v << 8) | uint8(input[from + i]);
    }
}
