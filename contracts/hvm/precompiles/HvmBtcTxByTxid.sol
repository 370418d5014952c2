// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {TxByTxidEncoder} from "../TxByTxidEncoder.sol";
import {TxByTxidLayout} from "../TxByTxidLayout.sol";
import {TxIndexQueries} from "../TxIndexQueries.sol";
import {HvmPrecompile} from "./HvmPrecompile.sol";

/// @title HvmBtcTxByTxid
/// @notice hVM 0x42 btcTxByTxid: txid (32, display order) | 4 flag bytes in; the fields the flags ask for out, in the
///         layout chosen at deployment (TxByTxidEncoder).
/// @dev Empty answer for an input that is not 36 bytes, an unknown txid, or an input whose source is not found.
contract HvmBtcTxByTxid is HvmPrecompile {
    /// @dev The answer layout of this deployment.
    TxByTxidLayout internal immutable _layout;

    constructor(BitcoinTxIndex index_, TxByTxidLayout layout_) HvmPrecompile(index_) {
        _layout = layout_;
    }

    /// @notice The precompile: raw bytes in, raw bytes out.
    // A precompile has only its fallback: the fallback is the whole interface.
    // solhint-disable-next-line no-complex-fallback
    fallback(bytes calldata input) external returns (bytes memory) {
        if (input.length != 36) return "";
        bytes32 txid = _txidOf(input);
        TxIndexQueries.TxRecord memory r = _index.getTx(txid);
        if (!r.found) return "";
        (bool ok, bytes memory out) = TxByTxidEncoder.encode(
            _index,
            r,
            txid,
            TxByTxidEncoder.flags(bytes4(input[32:36]), _layout)
        );
        return ok ? out : bytes("");
    }
}
