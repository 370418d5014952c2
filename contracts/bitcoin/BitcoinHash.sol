// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BitcoinHash
/// @notice Bitcoin's double SHA-256 (hash256), the hash behind block hashes, txids and merkle nodes.
/// @dev Results are in internal byte order: exactly the bytes sha256(sha256(x)) returns.
library BitcoinHash {
    /// @notice hash256 of a memory byte string.
    function hash256(bytes memory data) internal view returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            // sha256 precompile (0x02): first over the data, then over the 32-byte result.
            if iszero(staticcall(gas(), 0x02, add(data, 0x20), mload(data), ptr, 0x20)) {
                revert(0, 0)
            }
            if iszero(staticcall(gas(), 0x02, ptr, 0x20, ptr, 0x20)) {
                revert(0, 0)
            }
            digest := mload(ptr)
        }
    }

    /// @notice hash256 of the concatenation of two 32-byte nodes (a merkle tree step).
    function hashPair(bytes32 left, bytes32 right) internal view returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, left)
            mstore(add(ptr, 0x20), right)
            if iszero(staticcall(gas(), 0x02, ptr, 0x40, ptr, 0x20)) {
                revert(0, 0)
            }
            if iszero(staticcall(gas(), 0x02, ptr, 0x20, ptr, 0x20)) {
                revert(0, 0)
            }
            digest := mload(ptr)
        }
    }
}
