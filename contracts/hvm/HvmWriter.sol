// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title HvmWriter
/// @notice Builds a precompile answer: big-endian integers and byte strings appended to a buffer sized up front.
library HvmWriter {
    /// @notice The buffer and how much of it is written.
    struct Writer {
        bytes buf;
        uint256 len;
    }

    /// @notice A writer for at most `capacity` bytes.
    function init(uint256 capacity) internal pure returns (Writer memory w) {
        // 32 spare bytes: integers are written with a full-word mstore.
        w.buf = new bytes(capacity + 32);
    }

    /// @notice Appends `v` as `size` big-endian bytes (1..32; higher bits of `v` are dropped).
    function uintBE(Writer memory w, uint256 v, uint256 size) internal pure {
        bytes memory b = w.buf;
        uint256 at = w.len;
        assembly ("memory-safe") {
            let p := add(add(b, 0x20), at)
            mstore(p, shl(sub(256, mul(8, size)), v))
        }
        w.len = at + size;
    }

    /// @notice Appends the first `n` bytes of `data` (n <= data.length).
    function put(Writer memory w, bytes memory data, uint256 n) internal pure {
        bytes memory b = w.buf;
        uint256 at = w.len;
        assembly ("memory-safe") {
            mcopy(add(add(b, 0x20), at), add(data, 0x20), n)
        }
        w.len = at + n;
    }

    /// @notice Appends a bytes32 as is.
    function word(Writer memory w, bytes32 v) internal pure {
        bytes memory b = w.buf;
        uint256 at = w.len;
        assembly ("memory-safe") {
            mstore(add(add(b, 0x20), at), v)
        }
        w.len = at + 32;
    }

    /// @notice The written bytes.
    function done(Writer memory w) internal pure returns (bytes memory b) {
        b = w.buf;
        uint256 n = w.len;
        assembly ("memory-safe") {
            mstore(b, n)
        }
    }
}
