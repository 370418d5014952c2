// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BytesSlice
/// @notice Copy of a range of a memory byte array, shared by the Bitcoin parsers (BitcoinScript, BitcoinTx).
library BytesSlice {
    /// @notice Copies `n` bytes of `b` from `start` into a new bytes.
    /// @dev The caller checks bounds (`start + n <= b.length`): this function does not.
    /// @param b Source bytes.
    /// @param start Offset of the first byte to copy.
    /// @param n Number of bytes to copy.
    /// @return out A new bytes of length `n`.
    function slice(bytes memory b, uint256 start, uint256 n) internal pure returns (bytes memory out) {
        assembly ("memory-safe") {
            out := mload(0x40)
            mstore(out, n)
            let dst := add(out, 0x20)
            mcopy(dst, add(add(b, 0x20), start), n)
            // Zero the padding of the last word, then reserve the rounded-up space.
            mstore(add(dst, n), 0)
            mstore(0x40, add(dst, and(add(n, 31), not(31))))
        }
    }
}
