// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {HvmAddressPrecompile} from "./HvmAddressPrecompile.sol";

/// @title HvmBtcBalAddr
/// @notice hVM 0x40 btcBalAddr: ASCII address in, 8-byte big-endian balance (sats) of its unspent outputs out.
/// @dev Empty answer for an input under 24 bytes or an address that does not decode (op-geth's outcomes).
contract HvmBtcBalAddr is HvmAddressPrecompile {
    constructor(BitcoinTxIndex index_) HvmAddressPrecompile(index_) {}

    /// @notice The precompile: raw bytes in, raw bytes out.
    // A precompile has only its fallback: the fallback is the whole interface.
    // solhint-disable-next-line no-complex-fallback
    fallback(bytes calldata input) external returns (bytes memory) {
        if (input.length < MIN_ADDRESS_LENGTH) return "";
        (bool ok, bytes memory script) = _script(input);
        if (!ok) return "";
        return abi.encodePacked(_index.balanceOf(keccak256(script)));
    }
}
