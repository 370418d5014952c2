// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Secp256k1} from "../pop/Secp256k1.sol";

/// @title Secp256k1Harness
/// @notice Test-only contract exposing the Secp256k1 library.
contract Secp256k1Harness {
    /// @notice Secp256k1.decompress.
    /// @param pubkey A 33-byte compressed key.
    /// @return x The x coordinate.
    /// @return y The y coordinate.
    function decompress(bytes calldata pubkey) external view returns (uint256 x, uint256 y) {
        return Secp256k1.decompress(pubkey);
    }

    /// @notice Secp256k1.toAddress.
    /// @param pubkey A 33-byte compressed key.
    function toAddress(bytes calldata pubkey) external view returns (address) {
        return Secp256k1.toAddress(pubkey);
    }
}
