// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BytecodeStore
/// @notice Write-once byte storage in the code of a data contract: 200 gas per byte to write (code deposit) and
///         EXTCODECOPY to read, instead of 20,000 gas per 32-byte storage slot.
/// @dev The data contract's code is one STOP byte followed by the data, so calling it does nothing.
library BytecodeStore {
    /// @notice Largest blob one data contract holds (EIP-170 code size limit minus the STOP byte).
    uint256 internal constant MAX_BLOB = 24_575;

    /// @notice `length` bytes do not fit in one data contract (at most `max`).
    error BlobTooLarge(uint256 length, uint256 max);
    /// @notice Creating the data contract failed.
    error BlobWriteFailed();

    /// @notice Stores `data` in a new data contract.
    /// @param data At most MAX_BLOB bytes.
    /// @return pointer The data contract.
    function write(bytes memory data) internal returns (address pointer) {
        uint256 n = data.length;
        if (n > MAX_BLOB) revert BlobTooLarge(n, MAX_BLOB);
        // Init code: PUSH2 size(n+1) DUP1 PUSH1 0x0c PUSH1 0 CODECOPY PUSH1 0 RETURN, then STOP, then the data.
        bytes memory init = abi.encodePacked(bytes1(0x61), uint16(n + 1), hex"80600c6000396000f3", bytes1(0x00), data);
        assembly ("memory-safe") {
            pointer := create(0, add(init, 0x20), mload(init))
        }
        if (pointer == address(0)) revert BlobWriteFailed();
    }

    /// @notice Reads `length` bytes at `offset` of a blob.
    /// @dev The caller keeps offsets inside the blob (bytes past the code read as zeros).
    function read(address pointer, uint256 offset, uint256 length) internal view returns (bytes memory out) {
        out = new bytes(length);
        assembly ("memory-safe") {
            extcodecopy(pointer, add(out, 0x20), add(offset, 1), length)
        }
    }
}
