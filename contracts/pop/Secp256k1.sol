// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title Secp256k1
/// @notice Decompression of compressed secp256k1 public keys on chain, and the EVM address of a key.
/// @dev y is recovered from x as the square root of x^3 + 7 modulo p. Since p = 3 (mod 4), the root is
///      (x^3 + 7)^((p + 1) / 4) mod p, computed with the modexp precompile (0x05); the result is squared again to
///      prove that x is on the curve.
library Secp256k1 {
    /// @dev The field prime.
    uint256 private constant P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;
    /// @dev (P + 1) / 4.
    uint256 private constant SQRT_EXP = 0x3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFBFFFFF0C;

    /// @notice The key is not 33 bytes starting 0x02 or 0x03, or its x is not on the curve.
    error InvalidCompressedKey(bytes pubkey);

    /// @notice The y coordinate of a compressed key (33 bytes: 0x02 even y / 0x03 odd y, then x big-endian).
    /// @param pubkey The compressed key.
    /// @return x The x coordinate.
    /// @return y The y coordinate.
    function decompress(bytes memory pubkey) internal view returns (uint256 x, uint256 y) {
        if (pubkey.length != 33 || (pubkey[0] != 0x02 && pubkey[0] != 0x03)) revert InvalidCompressedKey(pubkey);
        assembly ("memory-safe") {
            x := mload(add(pubkey, 33))
        }
        if (x >= P) revert InvalidCompressedKey(pubkey);
        uint256 rhs = addmod(mulmod(mulmod(x, x, P), x, P), 7, P);
        y = _modexp(rhs, SQRT_EXP, P);
        if (mulmod(y, y, P) != rhs) revert InvalidCompressedKey(pubkey);
        if ((y & 1) != (uint8(pubkey[0]) & 1)) y = P - y;
    }

    /// @notice The EVM address of a compressed secp256k1 key: the last 20 bytes of keccak256(x || y).
    /// @param pubkey The compressed key (33 bytes).
    function toAddress(bytes memory pubkey) internal view returns (address) {
        (uint256 x, uint256 y) = decompress(pubkey);
        return address(uint160(uint256(keccak256(abi.encodePacked(x, y)))));
    }

    /// @dev base^exponent mod modulus through the modexp precompile (EIP-198).
    function _modexp(uint256 base, uint256 exponent, uint256 modulus) private view returns (uint256 r) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, 0x20)
            mstore(add(ptr, 0x20), 0x20)
            mstore(add(ptr, 0x40), 0x20)
            mstore(add(ptr, 0x60), base)
            mstore(add(ptr, 0x80), exponent)
            mstore(add(ptr, 0xa0), modulus)
            if iszero(staticcall(gas(), 0x05, ptr, 0xc0, ptr, 0x20)) {
                revert(0, 0)
            }
            r := mload(ptr)
        }
    }
}
