// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinSegwitTx} from "../../bitcoin/BitcoinSegwitTx.sol";
import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {HvmWriter} from "../HvmWriter.sol";
import {TxIndexQueries} from "../TxIndexQueries.sol";
import {HvmPrecompile} from "./HvmPrecompile.sol";

/// @title HvmBtcTxGetInputWitness
/// @notice hVM 0x49 btcTxGetInputWitness: txid (32, display) | input index (2 BE) | witness item index (2 BE) |
///         max length (2 BE) in; item length (2) | item cut to the max out.
/// @dev Empty answer for an input that is not 38 bytes, an unknown txid, an input or item index out of range, an
///      input without witness, or a transaction whose witness data is not proven.
contract HvmBtcTxGetInputWitness is HvmPrecompile {
    using HvmWriter for HvmWriter.Writer;

    constructor(BitcoinTxIndex index_) HvmPrecompile(index_) {}

    /// @notice The precompile: raw bytes in, raw bytes out.
    // A precompile has only its fallback: the fallback is the whole interface.
    // solhint-disable-next-line no-complex-fallback
    fallback(bytes calldata input) external returns (bytes memory) {
        if (input.length != 38) return "";
        TxIndexQueries.TxRecord memory r = _index.getTx(_txidOf(input));
        if (!r.found || !r.witnessKnown) return "";
        BitcoinSegwitTx.Split memory s = BitcoinSegwitTx.split(r.raw);
        (bool found, bytes memory item) = BitcoinSegwitTx.witnessItem(r.raw, s, _be(input, 32, 2), _be(input, 34, 2));
        if (!found) return "";
        uint256 maxLen = _be(input, 36, 2);
        uint256 cut = item.length < maxLen ? item.length : maxLen;
        HvmWriter.Writer memory w = HvmWriter.init(2 + cut);
        w.uintBE(item.length, 2);
        w.put(item, cut);
        return w.done();
    }
}
