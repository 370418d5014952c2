// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Bech32
/// @notice Decoding of segwit addresses (BIP-173 bech32 for witness version 0, BIP-350 bech32m above).
/// @dev Never reverts: anything that is not a valid segwit address with the expected human-readable part gives
///      ok = false. Upper-case addresses are accepted; mixed case is not.
library Bech32 {
    /// @dev Value of each ASCII code from 0x30 ('0') to 0x7a ('z') in the bech32 charset (lower case); 0xff = none.
    bytes private constant CHARSET_REV =
        hex"0fff0a1115141a1e0705ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
        hex"ff1dff180d19090817ff12161f1b13ff010003100b1c0c0e060402";
    uint256 private constant BECH32_CONST = 1;
    uint256 private constant BECH32M_CONST = 0x2bc830a3;

    /// @notice Decodes a segwit address.
    /// @param s The ASCII address.
    /// @param hrp The human-readable part the address must have (lower case: "bc", "tb", "bcrt").
    /// @return ok True for a valid address of that hrp (checksum variant matching the version, program 2..40
    ///         bytes, a version-0 program of 20 or 32 bytes, zero padding).
    /// @return version The witness version (0..16).
    /// @return program The witness program.
    function decodeSegwit(
        bytes memory s,
        bytes memory hrp
    ) internal pure returns (bool ok, uint8 version, bytes memory program) {
        uint256 len = s.length;
        uint256 h = hrp.length;
        // hrp, '1', version, at least 2 bytes of program (4 chars), 6 checksum chars; at most 90 chars.
        if (len > 90 || len < h + 1 + 1 + 4 + 6) return (false, 0, program);
        bytes memory low = new bytes(len);
        bool upper;
        bool lower;
        for (uint256 i; i < len; ++i) {
            uint8 c = uint8(s[i]);
            if (c < 33 || c > 126) return (false, 0, program);
            if (c >= 0x41 && c <= 0x5a) {
                upper = true;
                c += 32;
            } else if (c >= 0x61 && c <= 0x7a) {
                lower = true;
            }
            low[i] = bytes1(c);
        }
        if (upper && lower) return (false, 0, program);
        // The separator is the last '1'; it must sit right after the expected hrp.
        uint256 sep = len;
        for (uint256 i = len; i > 0; --i) {
            if (low[i - 1] == "1") {
                sep = i - 1;
                break;
            }
        }
        if (sep != h) return (false, 0, program);
        for (uint256 i; i < h; ++i) if (low[i] != hrp[i]) return (false, 0, program);
        uint256 nData = len - h - 1;
        uint8[] memory data = new uint8[](nData);
        for (uint256 i; i < nData; ++i) {
            uint256 c = uint8(low[h + 1 + i]);
            if (c < 0x30 || c > 0x7a) return (false, 0, program);
            uint8 v = uint8(CHARSET_REV[c - 0x30]);
            if (v == 0xff) return (false, 0, program);
            data[i] = v;
        }
        uint256 check = _polymod(hrp, data);
        version = data[0];
        if (version > 16) return (false, 0, program);
        if (check != (version == 0 ? BECH32_CONST : BECH32M_CONST)) return (false, 0, program);
        (ok, program) = _to8(data, 1, nData - 6);
        if (!ok || program.length < 2 || program.length > 40) return (false, 0, program);
        if (version == 0 && program.length != 20 && program.length != 32) return (false, 0, program);
    }

    /// @dev BIP-173 checksum polymod over the expanded hrp and the data.
    function _polymod(bytes memory hrp, uint8[] memory data) private pure returns (uint256 chk) {
        chk = 1;
        uint256 h = hrp.length;
        for (uint256 i; i < h; ++i) chk = _step(chk, uint8(hrp[i]) >> 5);
        chk = _step(chk, 0);
        for (uint256 i; i < h; ++i) chk = _step(chk, uint8(hrp[i]) & 31);
        for (uint256 i; i < data.length; ++i) chk = _step(chk, data[i]);
    }

    function _step(uint256 chk, uint256 v) private pure returns (uint256) {
        uint256 top = chk >> 25;
        chk = ((chk & 0x1ffffff) << 5) ^ v;
        if (top & 1 != 0) chk ^= 0x3b6a57b2;
        if (top & 2 != 0) chk ^= 0x26508e6d;
        if (top & 4 != 0) chk ^= 0x1ea119fa;
        if (top & 8 != 0) chk ^= 0x3d4233dd;
        if (top & 16 != 0) chk ^= 0x2a1462b3;
        return chk;
    }

    /// @dev Regroups 5-bit values data[from..to) into bytes; leftover padding must be under 5 bits and zero.
    function _to8(uint8[] memory data, uint256 from, uint256 to) private pure returns (bool ok, bytes memory out) {
        out = new bytes(((to - from) * 5) / 8);
        uint256 acc;
        uint256 bits;
        uint256 n;
        for (uint256 i = from; i < to; ++i) {
            acc = (acc << 5) | data[i];
            bits += 5;
            if (bits >= 8) {
                bits -= 8;
                out[n++] = bytes1(uint8(acc >> bits));
            }
        }
        if (bits >= 5 || ((acc << (8 - bits)) & 0xff) != 0) return (false, out);
        return (true, out);
    }
}
