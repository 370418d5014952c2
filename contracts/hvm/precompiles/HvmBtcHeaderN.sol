// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {HvmHeaderPrecompile} from "./HvmHeaderPrecompile.sol";

/// @title HvmBtcHeaderN
/// @notice hVM 0x45 btcHeaderN: a 4-byte big-endian height in; the 116-byte record of the canonical indexed header
///         at that height out.
/// @dev Empty answer for an input that is not 4 bytes (op-geth's newest behaviour), a height above best - lag, or
///      a block that is not indexed.
contract HvmBtcHeaderN is HvmHeaderPrecompile {
    constructor(BitcoinTxIndex index_) HvmHeaderPrecompile(index_) {}

    /// @notice The precompile: raw bytes in, raw bytes out.
    // A precompile has only its fallback: the fallback is the whole interface.
    // solhint-disable-next-line no-complex-fallback
    fallback(bytes calldata input) external returns (bytes memory) {
        if (input.length != 4) return "";
        return _record(uint32(bytes4(input)));
    }
}
