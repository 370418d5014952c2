// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {TxIndexQueries} from "../TxIndexQueries.sol";
import {HvmPrecompile} from "./HvmPrecompile.sol";

/// @title HvmBtcTxConfirmations
/// @notice hVM 0x43 btcTxConfirmations: a 32-byte txid (display order) in; 4-byte big-endian best - height + 1 out,
///         counted from the light client's best height (so the smallest count seen is lag + 1).
/// @dev Empty answer for an input that is not 32 bytes; an unknown txid is a call failure that burns the forwarded
///      gas (op-geth keeps that Go error on purpose).
contract HvmBtcTxConfirmations is HvmPrecompile {
    constructor(BitcoinTxIndex index_) HvmPrecompile(index_) {}

    /// @notice The precompile: raw bytes in, raw bytes out.
    // A precompile has only its fallback: the fallback is the whole interface.
    // solhint-disable-next-line no-complex-fallback
    fallback(bytes calldata input) external returns (bytes memory) {
        if (input.length != 32) return "";
        TxIndexQueries.TxRecord memory r = _index.getTx(_txidOf(input));
        if (!r.found) _fail();
        (, uint32 best, ) = _index.tipView();
        return abi.encodePacked(best - r.height + 1);
    }
}
