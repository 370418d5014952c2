// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BitcoinMerkle
/// @notice Bitcoin merkle inclusion proofs (leaf = txid, internal byte order; siblings leaf to root).
library BitcoinMerkle {
    /// @notice Deepest tree accepted; a block would need over four billion transactions to go deeper.
    uint256 internal constant MAX_DEPTH = 32;

    /// @notice The proof is not a whole number of 32-byte siblings, or is deeper than MAX_DEPTH.
    error InvalidMerkleProofLength(uint256 length);
    /// @notice The index has bits above the proof's depth: the proof cannot be for that position.
    error MerkleIndexOutOfRange(uint256 index, uint256 depth);
    /// @notice A right-hand node equals its left sibling: a position that only exists by duplication
    ///         of the last node (CVE-2012-2459), not a real transaction.
    error MerkleDuplicateNode(uint256 level);

    /// @notice Computes the root reached from `leaf` at position `index` through the concatenated siblings.
    /// @dev Reverts on a malformed proof; compare the result with the header's merkle root.
    function computeRoot(bytes32 leaf, bytes calldata siblings, uint256 index) internal view returns (bytes32 node) {
        uint256 len = siblings.length;
        if (len % 32 != 0 || len > MAX_DEPTH * 32) revert InvalidMerkleProofLength(len);
        uint256 depth = len / 32;
        if (index >> depth != 0) revert MerkleIndexOutOfRange(index, depth);
        node = leaf;
        uint256 level;
        bool duplicate;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let off := siblings.offset
            for {} lt(level, depth) {
                level := add(level, 1)
            } {
                let sibling := calldataload(add(off, mul(level, 32)))
                switch and(shr(level, index), 1)
                case 0 {
                    mstore(ptr, node)
                    mstore(add(ptr, 0x20), sibling)
                }
                default {
                    if eq(sibling, node) {
                        duplicate := 1
                        break
                    }
                    mstore(ptr, sibling)
                    mstore(add(ptr, 0x20), node)
                }
                if iszero(staticcall(gas(), 0x02, ptr, 0x40, ptr, 0x20)) {
                    revert(0, 0)
                }
                if iszero(staticcall(gas(), 0x02, ptr, 0x20, ptr, 0x20)) {
                    revert(0, 0)
                }
                node := mload(ptr)
            }
        }
        if (duplicate) revert MerkleDuplicateNode(level);
    }
}
