// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {HvmAddressPrecompile} from "./HvmAddressPrecompile.sol";

/// @title HvmBtcAddrToScript
/// @notice hVM 0x46 btcAddrToScript: ASCII address in, the raw scriptPubKey it pays to out.
/// @dev Empty answer for an input under 24 bytes; an address that does not decode is a call failure that burns the
///      forwarded gas (op-geth returns a Go error there).
contract HvmBtcAddrToScript is HvmAddressPrecompile {
    constructor(BitcoinTxIndex index_) HvmAddressPrecompile(index_) {}

    /// @notice The precompile: raw bytes in, raw bytes out.
    // A precompile has only its fallback: the fallback is the whole interface.
    // solhint-disable-next-line no-complex-fallback
    fallback(bytes calldata input) external returns (bytes memory) {
        if (input.length < MIN_ADDRESS_LENGTH) return "";
        (bool ok, bytes memory script) = _script(input);
        if (!ok) _fail();
        return script;
    }
}
