// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHash} from "./BitcoinHash.sol";

/// @title BitcoinHeader
/// @notice Parsing and consensus arithmetic for 80-byte Bitcoin block headers: fields, hash, the compact
///         nBits encoding, chain work and the mainnet difficulty retarget.
/// @dev Hashes are in internal byte order (the raw hash256 output). Integers in headers are little-endian.
library BitcoinHeader {
    /// @notice Length of a serialized block header.
    uint256 internal constant HEADER_LENGTH = 80;
    /// @notice Blocks per difficulty epoch.
    uint256 internal constant RETARGET_INTERVAL = 2016;
    /// @notice Target duration of one epoch in seconds (two weeks).
    uint256 internal constant TARGET_TIMESPAN = 14 days;
    /// @notice Target spacing between blocks in seconds.
    uint256 internal constant TARGET_SPACING = 10 minutes;
    /// @notice Mainnet and testnet proof-of-work limit (compact 0x1d00ffff).
    uint256 internal constant POW_LIMIT_MAINNET = 0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff;
    /// @notice Regtest proof-of-work limit (compact 0x207fffff).
    uint256 internal constant POW_LIMIT_REGTEST = 0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff;
    /// @notice Compact form of the mainnet/testnet proof-of-work limit.
    uint32 internal constant POW_LIMIT_BITS_MAINNET = 0x1d00ffff;
    /// @notice Compact form of the regtest proof-of-work limit.
    uint32 internal constant POW_LIMIT_BITS_REGTEST = 0x207fffff;

    /// @notice A header's fields, decoded.
    struct Header {
        uint32 version;
        bytes32 prevHash;
        bytes32 merkleRoot;
        uint32 timestamp;
        uint32 bits;
        uint32 nonce;
        bytes32 hash;
    }

    /// @notice The header is not exactly 80 bytes.
    error InvalidHeaderLength(uint256 length);
    /// @notice The compact target has its sign bit set with a non-zero mantissa (a negative target).
    error NegativeTarget(uint32 bits);
    /// @notice The compact target decodes to zero.
    error ZeroTarget(uint32 bits);
    /// @notice The compact target does not fit in 256 bits.
    error TargetOverflow(uint32 bits);
    /// @notice The target is easier than the network's proof-of-work limit.
    error TargetAboveLimit(uint32 bits, uint256 powLimit);
    /// @notice The header hash does not meet its own target.
    error InsufficientProofOfWork(bytes32 blockHash, uint256 target);

    /// @notice Decodes the six fields of a raw 80-byte header and computes its hash.
    /// @param raw The serialized header.
    /// @return h The decoded header.
    function parse(bytes memory raw) internal view returns (Header memory h) {
        if (raw.length != HEADER_LENGTH) revert InvalidHeaderLength(raw.length);
        bytes32 prev;
        bytes32 root;
        uint256 w0;
        uint256 w2;
        assembly ("memory-safe") {
            w0 := mload(add(raw, 0x20))
            prev := mload(add(raw, 0x24))
            root := mload(add(raw, 0x44))
            w2 := mload(add(raw, 0x64)) // bytes 68..99: time, bits, nonce, then padding
        }
        h.version = swap32(uint32(w0 >> 224));
        h.prevHash = prev;
        h.merkleRoot = root;
        h.timestamp = swap32(uint32(w2 >> 224));
        h.bits = swap32(uint32(w2 >> 192));
        h.nonce = swap32(uint32(w2 >> 160));
        h.hash = BitcoinHash.hash256(raw);
    }

    /// @notice Reverses the byte order of a 32-bit integer (little-endian <-> big-endian).
    function swap32(uint32 v) internal pure returns (uint32) {
        return ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24);
    }

    /// @notice Reverses the 32 bytes of a word: internal-order hash <-> the big-endian number it represents.
    function reverse256(bytes32 input) internal pure returns (uint256 v) {
        v = uint256(input);
        v =
            ((v >> 8) & 0x00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF) |
            ((v & 0x00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF) << 8);
        v =
            ((v >> 16) & 0x0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF) |
            ((v & 0x0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF) << 16);
        v =
            ((v >> 32) & 0x00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF) |
            ((v & 0x00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF) << 32);
        v =
            ((v >> 64) & 0x0000000000000000FFFFFFFFFFFFFFFF0000000000000000FFFFFFFFFFFFFFFF) |
            ((v & 0x0000000000000000FFFFFFFFFFFFFFFF0000000000000000FFFFFFFFFFFFFFFF) << 64);
        v = (v >> 128) | (v << 128);
    }

    /// @notice Decodes a compact nBits value into a 256-bit target, exactly as Bitcoin Core's SetCompact does,
    ///         reporting the sign and overflow flags instead of reverting.
    /// @return target The decoded target (meaningless when `negative` or `overflow`).
    /// @return negative True when the sign bit is set and the mantissa is non-zero.
    /// @return overflow True when the value does not fit in 256 bits.
    function decodeBits(uint32 bits) internal pure returns (uint256 target, bool negative, bool overflow) {
        uint256 size = bits >> 24;
        uint256 word = bits & 0x007fffff;
        if (size <= 3) {
            target = word >> (8 * (3 - size));
        } else {
            // Shifting by 8 * (size - 3) >= 256 yields 0 in the EVM; overflow is flagged below.
            target = word << (8 * (size - 3));
        }
        negative = word != 0 && (bits & 0x00800000) != 0;
        overflow = word != 0 && (size > 34 || (word > 0xff && size > 33) || (word > 0xffff && size > 32));
    }

    /// @notice Decodes nBits and checks it is a usable target: positive, non-zero, in range and within `powLimit`.
    function targetFromBits(uint32 bits, uint256 powLimit) internal pure returns (uint256 target) {
        bool negative;
        bool overflow;
        (target, negative, overflow) = decodeBits(bits);
        if (negative) revert NegativeTarget(bits);
        if (overflow) revert TargetOverflow(bits);
        if (target == 0) revert ZeroTarget(bits);
        if (target > powLimit) revert TargetAboveLimit(bits, powLimit);
    }

    /// @notice Encodes a target in compact form exactly as Bitcoin Core's GetCompact does (mantissa truncation,
    ///         sign-bit avoidance by moving to a larger exponent).
    function encodeBits(uint256 target) internal pure returns (uint32) {
        uint256 size = (bitLength(target) + 7) / 8;
        uint256 compact;
        if (size <= 3) {
            compact = (target & 0xffffffffffffffff) << (8 * (3 - size));
        } else {
            compact = (target >> (8 * (size - 3))) & 0xffffffff;
        }
        if (compact & 0x00800000 != 0) {
            compact >>= 8;
            size += 1;
        }
        return uint32(compact | (size << 24));
    }

    /// @notice Number of significant bits of `x` (0 for 0).
    function bitLength(uint256 x) internal pure returns (uint256 n) {
        unchecked {
            if (x >> 128 != 0) {
                x >>= 128;
                n += 128;
            }
            if (x >> 64 != 0) {
                x >>= 64;
                n += 64;
            }
            if (x >> 32 != 0) {
                x >>= 32;
                n += 32;
            }
            if (x >> 16 != 0) {
                x >>= 16;
                n += 16;
            }
            if (x >> 8 != 0) {
                x >>= 8;
                n += 8;
            }
            if (x >> 4 != 0) {
                x >>= 4;
                n += 4;
            }
            if (x >> 2 != 0) {
                x >>= 2;
                n += 2;
            }
            if (x >> 1 != 0) {
                x >>= 1;
                n += 1;
            }
            n += x;
        }
    }

    /// @notice Expected work to find a block at `target`: 2**256 / (target + 1), as Bitcoin Core's GetBlockProof.
    /// @dev Defined for 1 <= target < 2**256 - 1 (targetFromBits never yields 0).
    function workFromTarget(uint256 target) internal pure returns (uint256) {
        unchecked {
            // (~target / (target + 1)) + 1 == 2**256 / (target + 1) without overflowing; target < 2**256 - 1 here.
            return (~target / (target + 1)) + 1;
        }
    }

    /// @notice The nBits of the first block of a new epoch under the mainnet (and testnet3) retarget rule.
    /// @param lastBits nBits of the last block of the closing epoch.
    /// @param firstTimestamp Timestamp of the first block of the closing epoch.
    /// @param lastTimestamp Timestamp of the last block of the closing epoch.
    /// @param powLimit The network's proof-of-work limit.
    /// @return The compact target the next block must carry.
    function retarget(
        uint32 lastBits,
        uint256 firstTimestamp,
        uint256 lastTimestamp,
        uint256 powLimit
    ) internal pure returns (uint32) {
        // The timespan is signed in Bitcoin Core; a last block older than the first clamps to the minimum.
        uint256 actual = lastTimestamp > firstTimestamp ? lastTimestamp - firstTimestamp : 0;
        if (actual < TARGET_TIMESPAN / 4) actual = TARGET_TIMESPAN / 4;
        if (actual > TARGET_TIMESPAN * 4) actual = TARGET_TIMESPAN * 4;
        (uint256 target, , ) = decodeBits(lastBits);
        uint256 next = (target * actual) / TARGET_TIMESPAN;
        if (next > powLimit) next = powLimit;
        return encodeBits(next);
    }

    /// @notice Reverts unless the header hash meets `target`.
    function checkProofOfWork(bytes32 blockHash, uint256 target) internal pure {
        if (reverse256(blockHash) > target) revert InsufficientProofOfWork(blockHash, target);
    }
}
