// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BitcoinTxOutputs
/// @notice A single forward walk over the outputs of a raw transaction held in calldata, for the tunnel.
/// @dev The tunnel reads outputs from calldata (no copy of the transaction to memory) and hands the same bytes to
///      the light client, whose `BitcoinTx.validate` checks the full layout (canonical CompactSize, no trailing
///      bytes, no witness marker). This walk only guarantees that every read stays inside `rawTx`; any bytes it
///      accepts but that are not a valid transaction are then rejected by the light client.
library BitcoinTxOutputs {
    /// @notice The transaction bytes end (or are inconsistent) at byte `offset`.
    error TxMalformed(uint256 offset);

    /// @notice Offset of the output count, and the count, after walking the version and every input.
    /// @param rawTx The non-witness serialization.
    /// @return count Number of outputs.
    /// @return off Offset of the first output.
    function outputsStart(bytes calldata rawTx) internal pure returns (uint256 count, uint256 off) {
        uint256 len = rawTx.length;
        uint256 nIn;
        (nIn, off) = _compactSize(rawTx, 4, len);
        if (nIn == 0) revert TxMalformed(4);
        for (uint256 i; i < nIn; ++i) {
            uint256 scriptLen;
            (scriptLen, off) = _compactSize(rawTx, off + 36, len);
            off += scriptLen + 4;
            if (off > len) revert TxMalformed(off);
        }
        (count, off) = _compactSize(rawTx, off, len);
    }

    /// @notice Reads the output at `off`.
    /// @param rawTx The non-witness serialization.
    /// @param off Offset of the output (from `outputsStart` or a previous `readOutput`).
    /// @return value Its value in satoshis.
    /// @return scriptOff Offset of its script.
    /// @return scriptLen Length of its script.
    /// @return next Offset of the next output (or of the locktime after the last).
    function readOutput(
        bytes calldata rawTx,
        uint256 off
    ) internal pure returns (uint64 value, uint256 scriptOff, uint256 scriptLen, uint256 next) {
        uint256 len = rawTx.length;
        if (off + 8 > len) revert TxMalformed(off);
        uint256 w;
        assembly {
            w := calldataload(add(rawTx.offset, off))
        }
        value = uint64(_reverse64(w >> 192));
        (scriptLen, scriptOff) = _compactSize(rawTx, off + 8, len);
        next = scriptOff + scriptLen;
        if (next > len) revert TxMalformed(scriptOff);
    }

    /// @notice keccak256 of `rawTx[off : off + n]`.
    function hashSlice(bytes calldata rawTx, uint256 off, uint256 n) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, add(rawTx.offset, off), n)
            h := keccak256(ptr, n)
        }
    }

    /// @notice The 32-byte word at `off` (bytes past the end of calldata read as zero; callers check bounds).
    function wordAt(bytes calldata rawTx, uint256 off) internal pure returns (uint256 w) {
        assembly {
            w := calldataload(add(rawTx.offset, off))
        }
    }

    /// @dev A CompactSize at `off`; returns its value and the offset after it.
    function _compactSize(bytes calldata b, uint256 off, uint256 len) private pure returns (uint256 v, uint256 next) {
        if (off >= len) revert TxMalformed(off);
        uint256 w;
        assembly {
            w := calldataload(add(b.offset, off))
        }
        uint256 prefix = w >> 248;
        if (prefix < 0xfd) return (prefix, off + 1);
        uint256 size = prefix == 0xfd ? 2 : (prefix == 0xfe ? 4 : 8);
        next = off + 1 + size;
        if (next > len) revert TxMalformed(off);
        v = _reverse64((w << 8) >> 192) & ((1 << (8 * size)) - 1);
    }

    /// @dev Reverses the byte order of the low 64 bits.
    function _reverse64(uint256 x) private pure returns (uint256 v) {
        v = x & 0xFFFFFFFFFFFFFFFF;
        v = ((v >> 8) & 0x00FF00FF00FF00FF) | ((v & 0x00FF00FF00FF00FF) << 8);
        v = ((v >> 16) & 0x0000FFFF0000FFFF) | ((v & 0x0000FFFF0000FFFF) << 16);
        v = ((v >> 32) | (v << 32)) & 0xFFFFFFFFFFFFFFFF;
    }
}
