// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHash} from "./BitcoinHash.sol";

/// @title Base58Check
/// @notice Decoding of Base58Check strings of exactly 25 bytes (version | 20-byte hash | 4-byte checksum), the
///         form of legacy P2PKH and P2SH addresses.
/// @dev Never reverts: a string that is not such an encoding gives ok = false.
library Base58Check {
    /// @dev Bitcoin's alphabet: digit value of each ASCII code from 0x31 ('1') to 0x7a ('z'); 0xff = not a digit.
    bytes private constant DIGITS =
        hex"000102030405060708ffffffffffffff090a0b0c0d0e0f10ff1112131415ff161718191a1b1c1d1e1f20ffffffffffff"
        hex"2122232425262728292a2bff2c2d2e2f30313233343536373839";

    /// @notice Decodes a 25-byte Base58Check string.
    /// @param s The ASCII string.
    /// @return ok True when `s` is Base58 for exactly 25 bytes whose last 4 are the hash256 checksum of the first 21.
    /// @return version The version byte.
    /// @return hash The 20-byte payload.
    function decode25(bytes memory s) internal view returns (bool ok, uint8 version, bytes20 hash) {
        uint256 len = s.length;
        if (len == 0 || len > 35) return (false, 0, 0);
        uint256 zeros;
        while (zeros < len && s[zeros] == "1") ++zeros;
        uint256 num;
        for (uint256 i = zeros; i < len; ++i) {
            uint256 c = uint8(s[i]);
            if (c < 0x31 || c > 0x7a) return (false, 0, 0);
            uint256 d = uint8(DIGITS[c - 0x31]);
            if (d == 0xff) return (false, 0, 0);
            // 35 digits stay below 58**35 < 2**206: no overflow.
            num = num * 58 + d;
        }
        uint256 numLen;
        for (uint256 v = num; v != 0; v >>= 8) ++numLen;
        if (zeros + numLen != 25) return (false, 0, 0);
        // num holds the 25 bytes right-aligned (the leading zero bytes are the '1's).
        bytes memory body = abi.encodePacked(uint168(num >> 32));
        bytes32 check = BitcoinHash.hash256(body);
        if (uint32(bytes4(check)) != uint32(num)) return (false, 0, 0);
        return (true, uint8(num >> 192), bytes20(uint160(num >> 32)));
    }
}
