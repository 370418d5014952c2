// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHash} from "./BitcoinHash.sol";
import {BitcoinTx} from "./BitcoinTx.sol";
import {BytesSlice} from "./BytesSlice.sol";

/// @title BitcoinSegwitTx
/// @notice Transactions in their full serialization: the BIP-144 form (version | 0x00 0x01 | inputs | outputs |
///         witnesses | locktime) or, for a transaction without witness data, the legacy form. Splits one into its
///         non-witness serialization (what the txid commits to) and its witness stacks.
/// @dev The non-witness part is checked by BitcoinTx (same errors). A marker/flag with a witness section that
///      is all empty stacks is rejected (Bitcoin refuses such "superfluous witness" encodings).
library BitcoinSegwitTx {
    /// @notice The witness section of a transaction does not end where the locktime starts (`offset`, `length`).
    error WitnessMalformed(uint256 offset, uint256 length);
    /// @notice The transaction has the segwit marker but every witness stack is empty.
    error WitnessAllEmpty();

    /// @notice A transaction in its full serialization, split.
    struct Split {
        bytes nonWitness; // what the txid commits to
        bool hasWitness; // marker and flag present
        uint256 size; // full serialized size, witness included
        uint256 witnessStart; // offset of the witness section in the full serialization (0 without witness)
        uint256[] witnessCounts; // stack items per input (all zero without witness)
    }

    /// @notice Splits a full serialization and checks both parts.
    /// @param raw The full serialization.
    /// @return s The split transaction.
    function split(bytes memory raw) internal pure returns (Split memory s) {
        uint256 len = raw.length;
        s.size = len;
        if (len < 6 || uint8(raw[4]) != 0 || uint8(raw[5]) != 1) {
            (uint256 inputs, ) = BitcoinTx.validate(raw);
            s.nonWitness = raw;
            s.witnessCounts = new uint256[](inputs);
            return s;
        }
        s.hasWitness = true;
        // Walk the inputs and outputs (BitcoinTx checks them again on the non-witness bytes).
        uint256 off = 6;
        uint256 nIn;
        (nIn, off) = _compact(raw, off);
        for (uint256 i; i < nIn; ++i) {
            uint256 sl;
            (sl, off) = _compact(raw, off + 36);
            off += sl + 4;
        }
        uint256 nOut;
        (nOut, off) = _compact(raw, off);
        for (uint256 i; i < nOut; ++i) {
            uint256 sl;
            (sl, off) = _compact(raw, off + 8);
            off += sl;
        }
        if (off + 4 > len) revert BitcoinTx.TxTruncated(off, 4, len);
        s.witnessStart = off;
        s.nonWitness = bytes.concat(
            BytesSlice.slice(raw, 0, 4),
            BytesSlice.slice(raw, 6, off - 6),
            BytesSlice.slice(raw, len - 4, 4)
        );
        BitcoinTx.validate(s.nonWitness);
        s.witnessCounts = new uint256[](nIn);
        bool any;
        for (uint256 i; i < nIn; ++i) {
            uint256 n;
            (n, off) = _compact(raw, off);
            s.witnessCounts[i] = n;
            if (n != 0) any = true;
            for (uint256 k; k < n; ++k) {
                uint256 il;
                (il, off) = _compact(raw, off);
                off += il;
            }
        }
        if (off != len - 4) revert WitnessMalformed(off, len);
        if (!any) revert WitnessAllEmpty();
    }

    /// @notice The txid (hash256 of the non-witness serialization), internal byte order.
    function txid(Split memory s) internal view returns (bytes32) {
        return BitcoinHash.hash256(s.nonWitness);
    }

    /// @notice One witness stack item of a split transaction.
    /// @param raw The full serialization `s` was split from.
    /// @param s The split transaction.
    /// @param inputIndex The input.
    /// @param itemIndex The item in that input's witness stack.
    /// @return found False when the input or the item does not exist.
    /// @return item The item's bytes.
    function witnessItem(
        bytes memory raw,
        Split memory s,
        uint256 inputIndex,
        uint256 itemIndex
    ) internal pure returns (bool found, bytes memory item) {
        if (!s.hasWitness || inputIndex >= s.witnessCounts.length) return (false, item);
        if (itemIndex >= s.witnessCounts[inputIndex]) return (false, item);
        uint256 off = s.witnessStart;
        for (uint256 i; i < inputIndex; ++i) {
            uint256 n;
            (n, off) = _compact(raw, off);
            for (uint256 k; k < n; ++k) {
                uint256 il;
                (il, off) = _compact(raw, off);
                off += il;
            }
        }
        (, off) = _compact(raw, off);
        for (uint256 k; k < itemIndex; ++k) {
            uint256 il;
            (il, off) = _compact(raw, off);
            off += il;
        }
        uint256 itemLen;
        (itemLen, off) = _compact(raw, off);
        return (true, BytesSlice.slice(raw, off, itemLen));
    }

    /// @dev CompactSize at `off` (bounds-checked; non-minimal encodings are accepted here and rejected by
    ///      BitcoinTx where they matter for the txid).
    function _compact(bytes memory b, uint256 off) private pure returns (uint256 v, uint256 next) {
        uint256 len = b.length;
        if (off >= len) revert BitcoinTx.TxTruncated(off, 1, len);
        uint256 p = uint8(b[off]);
        if (p < 0xfd) return (p, off + 1);
        uint256 size = p == 0xfd ? 2 : (p == 0xfe ? 4 : 8);
        if (off + 1 + size > len) revert BitcoinTx.TxTruncated(off, 1 + size, len);
        for (uint256 i; i < size; ++i) v |= uint256(uint8(b[off + 1 + i])) << (8 * i);
        if (v > len) revert BitcoinTx.TxTruncated(off, v, len);
        next = off + 1 + size;
    }
}
