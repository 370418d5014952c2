// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHash} from "./BitcoinHash.sol";
import {BytesSlice} from "./BytesSlice.sol";

/// @title BitcoinTx
/// @notice Bounds-checked parsing of raw Bitcoin transactions in their non-witness serialization (the bytes a
///         txid commits to): version | inputs | outputs | locktime, integers little-endian.
/// @dev Every read is checked against the length of the input; malformed bytes revert with one of the custom
///      errors below, never with a panic or by reading past the end. Hashes (txid, prevTxid) are bytes32 in
///      internal byte order, exactly as they appear in raw data and as sha256(sha256(x)) returns them.
///      Field offsets in errors are byte positions inside `rawTx`.
library BitcoinTx {
    /// @notice One input: the outpoint it spends, its scriptSig and its sequence number.
    struct TxIn {
        bytes32 prevTxid; // internal byte order
        uint32 prevVout;
        bytes scriptSig;
        uint32 sequence;
    }

    /// @notice One output: its value in satoshis and its scriptPubKey.
    struct TxOut {
        uint64 value;
        bytes script;
    }

    /// @notice A fully parsed transaction.
    struct Transaction {
        uint32 version;
        TxIn[] inputs;
        TxOut[] outputs;
        uint32 locktime;
    }

    /// @notice The field that starts at `offset` needs `needed` bytes, but the transaction is `length` bytes long.
    error TxTruncated(uint256 offset, uint256 needed, uint256 length);
    /// @notice The transaction uses the segwit serialization (marker 0x00, flag 0x01 after the version);
    ///         pass the non-witness serialization instead.
    error TxHasWitnessMarker();
    /// @notice The input count is zero.
    error TxNoInputs();
    /// @notice The output count is zero.
    error TxNoOutputs();
    /// @notice The transaction ends at byte `consumed` but `length` bytes were given.
    error TxTrailingBytes(uint256 consumed, uint256 length);
    /// @notice The CompactSize integer at `offset` is not minimally encoded.
    error CompactSizeNotCanonical(uint256 offset);
    /// @notice Output `index` was asked for but the transaction has `count` outputs.
    error OutputIndexOutOfRange(uint256 index, uint256 count);
    /// @notice Input `index` was asked for but the transaction has `count` inputs.
    error InputIndexOutOfRange(uint256 index, uint256 count);

    /// @dev Smallest input: prevTxid(32) + prevVout(4) + scriptSig length(1) + sequence(4).
    uint256 private constant MIN_INPUT_SIZE = 41;
    /// @dev Smallest output: value(8) + script length(1).
    uint256 private constant MIN_OUTPUT_SIZE = 9;

    // ------------------------------------------------------------------------------------------------------------
    // Public API
    // ------------------------------------------------------------------------------------------------------------

    /// @notice Parses a whole transaction into memory structs.
    /// @dev Performs exactly the checks of `validate` (same errors, same order) and copies every script.
    /// @param rawTx The non-witness serialization.
    /// @return txn The parsed transaction.
    function parse(bytes memory rawTx) internal pure returns (Transaction memory txn) {
        uint256 len = rawTx.length;
        (uint256 nIn, uint256 off) = _inputsStart(rawTx, len);
        txn.version = _u32le(rawTx, 0);
        TxIn[] memory inputs = _allocInputs(nIn);
        for (uint256 i; i < nIn;) {
            (inputs[i], off) = _readInput(rawTx, off, len);
            unchecked {
                ++i;
            }
        }
        uint256 nOut;
        (nOut, off) = _outputsStart(rawTx, off, len);
        TxOut[] memory outputs = _allocOutputs(nOut);
        for (uint256 i; i < nOut;) {
            (outputs[i], off) = _readOutput(rawTx, off, len);
            unchecked {
                ++i;
            }
        }
        _checkEnd(off, len);
        txn.inputs = inputs;
        txn.outputs = outputs;
        txn.locktime = _u32le(rawTx, off);
    }

    /// @notice Checks the layout of a whole transaction without allocating memory.
    /// @dev Rejects truncation, the witness marker, zero inputs, zero outputs, non-canonical CompactSize
    ///      integers and trailing bytes. Does not judge scripts, values or signatures.
    /// @param rawTx The non-witness serialization.
    /// @return nIn Number of inputs.
    /// @return nOut Number of outputs.
    function validate(bytes memory rawTx) internal pure returns (uint256 nIn, uint256 nOut) {
        uint256 len = rawTx.length;
        uint256 off;
        (nIn, off) = _inputsStart(rawTx, len);
        for (uint256 i; i < nIn;) {
            off = _skipInput(rawTx, off, len);
            unchecked {
                ++i;
            }
        }
        (nOut, off) = _outputsStart(rawTx, off, len);
        for (uint256 i; i < nOut;) {
            off = _skipOutput(rawTx, off, len);
            unchecked {
                ++i;
            }
        }
        _checkEnd(off, len);
    }

    /// @notice The txid: hash256 of the raw bytes, in internal byte order (reverse it for display).
    /// @dev Hashes what it is given; it does not check the layout (call `validate` for that).
    /// @param rawTx The non-witness serialization.
    /// @return The txid in internal byte order.
    function txid(bytes memory rawTx) internal view returns (bytes32) {
        return BitcoinHash.hash256(rawTx);
    }

    /// @notice Number of inputs, checking the layout up to the input count.
    /// @param rawTx The non-witness serialization.
    /// @return count Number of inputs.
    function inputCount(bytes memory rawTx) internal pure returns (uint256 count) {
        (count, ) = _inputsStart(rawTx, rawTx.length);
    }

    /// @notice Number of outputs, checking the layout of every input and the output count.
    /// @param rawTx The non-witness serialization.
    /// @return count Number of outputs.
    function outputCount(bytes memory rawTx) internal pure returns (uint256 count) {
        uint256 len = rawTx.length;
        (count, ) = _outputsStart(rawTx, _skipInputs(rawTx, len), len);
    }

    /// @notice Reads one output, walking the transaction only as far as that output.
    /// @dev Checks the layout of everything before the output and the output itself, not what follows it;
    ///      call `validate` to check the whole transaction.
    /// @param rawTx The non-witness serialization.
    /// @param index Output position (vout).
    /// @return value The output value in satoshis.
    /// @return script The output's scriptPubKey.
    function output(bytes memory rawTx, uint256 index) internal pure returns (uint64 value, bytes memory script) {
        uint256 len = rawTx.length;
        (uint256 count, uint256 off) = _outputsStart(rawTx, _skipInputs(rawTx, len), len);
        if (index >= count) revert OutputIndexOutOfRange(index, count);
        for (uint256 i; i < index;) {
            off = _skipOutput(rawTx, off, len);
            unchecked {
                ++i;
            }
        }
        TxOut memory out;
        (out, ) = _readOutput(rawTx, off, len);
        return (out.value, out.script);
    }

    /// @notice Reads one input, walking the transaction only as far as that input.
    /// @dev Checks the layout of everything before the input and the input itself, not what follows it;
    ///      call `validate` to check the whole transaction.
    /// @param rawTx The non-witness serialization.
    /// @param index Input position.
    /// @return txIn The input (prevTxid in internal byte order).
    function input(bytes memory rawTx, uint256 index) internal pure returns (TxIn memory txIn) {
        uint256 len = rawTx.length;
        (uint256 count, uint256 off) = _inputsStart(rawTx, len);
        if (index >= count) revert InputIndexOutOfRange(index, count);
        for (uint256 i; i < index;) {
            off = _skipInput(rawTx, off, len);
            unchecked {
                ++i;
            }
        }
        (txIn, ) = _readInput(rawTx, off, len);
    }

    // ------------------------------------------------------------------------------------------------------------
    // Layout walking
    // ------------------------------------------------------------------------------------------------------------

    /// @dev Checks the version and the input count; returns the count and the offset of the first input.
    function _inputsStart(bytes memory b, uint256 len) private pure returns (uint256 count, uint256 off) {
        if (len < 4) revert TxTruncated(0, 4, len);
        (count, off) = _readCompactSize(b, 4, len);
        if (count == 0) {
            // Segwit serialization: marker 0x00 (read as a zero input count) followed by flag 0x01.
            if (len > 5 && _byteAt(b, 5) == 0x01) revert TxHasWitnessMarker();
            revert TxNoInputs();
        }
        _checkCountFits(count, MIN_INPUT_SIZE, off, len);
    }

    /// @dev Checks the output count at `off`; returns the count and the offset of the first output.
    function _outputsStart(
        bytes memory b,
        uint256 off,
        uint256 len
    ) private pure returns (uint256 count, uint256 next) {
        (count, next) = _readCompactSize(b, off, len);
        if (count == 0) revert TxNoOutputs();
        _checkCountFits(count, MIN_OUTPUT_SIZE, next, len);
    }

    /// @dev A count of items that cannot fit in the remaining bytes is rejected before anything is allocated.
    function _checkCountFits(uint256 count, uint256 minSize, uint256 off, uint256 len) private pure {
        unchecked {
            // count < 2**64 and off <= len, so neither expression can overflow.
            if (count * minSize > len - off) revert TxTruncated(off, count * minSize, len);
        }
    }

    /// @dev Walks every input; returns the offset of the output count.
    function _skipInputs(bytes memory b, uint256 len) private pure returns (uint256 off) {
        uint256 count;
        (count, off) = _inputsStart(b, len);
        for (uint256 i; i < count;) {
            off = _skipInput(b, off, len);
            unchecked {
                ++i;
            }
        }
    }

    /// @dev Bounds of the input at `off`: start and length of its scriptSig, and the offset of its sequence.
    function _inputBounds(
        bytes memory b,
        uint256 off,
        uint256 len
    ) private pure returns (uint256 scriptStart, uint256 scriptLen, uint256 seqOff) {
        unchecked {
            // All offsets and lengths here are < 2**65, so the sums cannot overflow.
            if (off + 36 > len) revert TxTruncated(off, 36, len);
            (scriptLen, scriptStart) = _readCompactSize(b, off + 36, len);
            seqOff = scriptStart + scriptLen;
            if (seqOff > len) revert TxTruncated(scriptStart, scriptLen, len);
            if (seqOff + 4 > len) revert TxTruncated(seqOff, 4, len);
        }
    }

    /// @dev Checks the input at `off`; returns the offset after it.
    function _skipInput(bytes memory b, uint256 off, uint256 len) private pure returns (uint256) {
        (, , uint256 seqOff) = _inputBounds(b, off, len);
        unchecked {
            return seqOff + 4;
        }
    }

    /// @dev Checks and copies the input at `off`; returns it and the offset after it.
    function _readInput(
        bytes memory b,
        uint256 off,
        uint256 len
    ) private pure returns (TxIn memory txIn, uint256 next) {
        (uint256 scriptStart, uint256 scriptLen, uint256 seqOff) = _inputBounds(b, off, len);
        bytes32 prev;
        assembly ("memory-safe") {
            prev := mload(add(add(b, 0x20), off))
        }
        txIn.prevTxid = prev;
        unchecked {
            txIn.prevVout = _u32le(b, off + 32);
            txIn.scriptSig = BytesSlice.slice(b, scriptStart, scriptLen);
            txIn.sequence = _u32le(b, seqOff);
            next = seqOff + 4;
        }
    }

    /// @dev Bounds of the output at `off`: start and length of its script.
    function _outputBounds(
        bytes memory b,
        uint256 off,
        uint256 len
    ) private pure returns (uint256 scriptStart, uint256 scriptLen) {
        unchecked {
            if (off + 8 > len) revert TxTruncated(off, 8, len);
            (scriptLen, scriptStart) = _readCompactSize(b, off + 8, len);
            if (scriptStart + scriptLen > len) revert TxTruncated(scriptStart, scriptLen, len);
        }
    }

    /// @dev Checks the output at `off`; returns the offset after it.
    function _skipOutput(bytes memory b, uint256 off, uint256 len) private pure returns (uint256) {
        (uint256 scriptStart, uint256 scriptLen) = _outputBounds(b, off, len);
        unchecked {
            return scriptStart + scriptLen;
        }
    }

    /// @dev Checks and copies the output at `off`; returns it and the offset after it.
    function _readOutput(
        bytes memory b,
        uint256 off,
        uint256 len
    ) private pure returns (TxOut memory out, uint256 next) {
        (uint256 scriptStart, uint256 scriptLen) = _outputBounds(b, off, len);
        out.value = _u64le(b, off);
        out.script = BytesSlice.slice(b, scriptStart, scriptLen);
        unchecked {
            next = scriptStart + scriptLen;
        }
    }

    /// @dev The 4-byte locktime must be present at `off` and be the last bytes.
    function _checkEnd(uint256 off, uint256 len) private pure {
        unchecked {
            if (off + 4 > len) revert TxTruncated(off, 4, len);
            if (off + 4 < len) revert TxTrailingBytes(off + 4, len);
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Byte reading (callers check bounds; reads past the end of `b` only ever see memory, never revert)
    // ------------------------------------------------------------------------------------------------------------

    /// @dev Reads a CompactSize at `off`: 1 byte below 0xfd, else 0xfd|u16, 0xfe|u32, 0xff|u64 (little-endian),
    ///      each minimally encoded. Returns the value and the offset after it.
    function _readCompactSize(
        bytes memory b,
        uint256 off,
        uint256 len
    ) private pure returns (uint256 value, uint256 next) {
        if (off >= len) revert TxTruncated(off, 1, len);
        uint256 word;
        assembly ("memory-safe") {
            word := mload(add(add(b, 0x20), off))
        }
        uint256 prefix = word >> 248;
        unchecked {
            if (prefix < 0xfd) return (prefix, off + 1);
            uint256 size = prefix == 0xfd ? 2 : (prefix == 0xfe ? 4 : 8);
            if (off + 1 + size > len) revert TxTruncated(off, 1 + size, len);
            // The `size` bytes after the prefix, little-endian.
            value = _reverse64(uint64((word << 8) >> 192)) & ((1 << (8 * size)) - 1);
            uint256 min = prefix == 0xfd ? 0xfd : (prefix == 0xfe ? 0x10000 : 0x100000000);
            if (value < min) revert CompactSizeNotCanonical(off);
            next = off + 1 + size;
        }
    }

    /// @dev Byte at `off` (unchecked).
    function _byteAt(bytes memory b, uint256 off) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := byte(0, mload(add(add(b, 0x20), off)))
        }
    }

    /// @dev Little-endian uint32 at `off` (unchecked).
    function _u32le(bytes memory b, uint256 off) private pure returns (uint32 v) {
        assembly ("memory-safe") {
            let w := mload(add(add(b, 0x20), off))
            v := or(or(byte(0, w), shl(8, byte(1, w))), or(shl(16, byte(2, w)), shl(24, byte(3, w))))
        }
    }

    /// @dev Little-endian uint64 at `off` (unchecked).
    function _u64le(bytes memory b, uint256 off) private pure returns (uint64) {
        uint256 w;
        assembly ("memory-safe") {
            w := mload(add(add(b, 0x20), off))
        }
        return uint64(_reverse64(uint64(w >> 192)));
    }

    /// @dev Reverses the byte order of a uint64.
    function _reverse64(uint64 x) private pure returns (uint256 v) {
        v = x;
        v = ((v >> 8) & 0x00FF00FF00FF00FF) | ((v & 0x00FF00FF00FF00FF) << 8);
        v = ((v >> 16) & 0x0000FFFF0000FFFF) | ((v & 0x0000FFFF0000FFFF) << 16);
        v = (v >> 32) | ((v & 0xFFFFFFFF) << 32);
    }

    /// @dev An array of `n` input slots, filled by the caller (avoids allocating `n` default structs).
    function _allocInputs(uint256 n) private pure returns (TxIn[] memory arr) {
        assembly ("memory-safe") {
            arr := mload(0x40)
            mstore(arr, n)
            mstore(0x40, add(add(arr, 0x20), shl(5, n)))
        }
    }

    /// @dev An array of `n` output slots, filled by the caller (avoids allocating `n` default structs).
    function _allocOutputs(uint256 n) private pure returns (TxOut[] memory arr) {
        assembly ("memory-safe") {
            arr := mload(0x40)
            mstore(arr, n)
            mstore(0x40, add(add(arr, 0x20), shl(5, n)))
        }
    }
}
