// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {HvmHeaderPrecompile} from "./HvmHeaderPrecompile.sol";

/// @title HvmBtcLastHeader
/// @notice hVM 0x44 btcLastHeader: input ignored; the 116-byte record of the light client's canonical header at
///         best - lag (the hVM's indexer tip).
/// @dev Empty answer while that block is not indexed (the index is behind) or best < lag.
contract HvmBtcLastHeader is HvmHeaderPrecompile {
    constructor(BitcoinTxIndex index_) HvmHeaderPrecompile(index_) {}

    /// @notice The precompile: raw bytes in, raw bytes out.
    // A precompile has only its fallback: the fallback is the whole interface.
    // solhint-disable-next-line no-complex-fallback
    fallback(bytes calldata) external returns (bytes memory) {
        (bool ok, , uint32 top) = _index.tipView();
        if (!ok) return "";
        return _record(top);
    }
}
