// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinSegwitTx} from "../../bitcoin/BitcoinSegwitTx.sol";
import {BitcoinTx} from "../../bitcoin/BitcoinTx.sol";
import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {BtcdScript} from "../BtcdScript.sol";
import {HvmWriter} from "../HvmWriter.sol";
import {TxIndexQueries} from "../TxIndexQueries.sol";
import {HvmPrecompile} from "./HvmPrecompile.sol";

/// @title HvmBtcOutputByTxid
/// @notice hVM 0x48 btcOutputByTxid: txid (32, display) | output index (2 BE) | max script length (2 BE) in;
///         value (8) | script length (2) | script cut to the max | unspent byte (1 = still unspent) out.
/// @dev Empty answer for an input that is not 36 bytes, an unknown txid or an index out of range.
contract HvmBtcOutputByTxid is HvmPrecompile {
    using HvmWriter for HvmWriter.Writer;

    constructor(BitcoinTxIndex index_) HvmPrecompile(index_) {}

    /// @notice The precompile: raw bytes in, raw bytes out.
    // A precompile has only its fallback: the fallback is the whole interface.
    // solhint-disable-next-line no-complex-fallback
    fallback(bytes calldata input) external returns (bytes memory) {
        if (input.length != 36) return "";
        bytes32 txid = _txidOf(input);
        TxIndexQueries.TxRecord memory r = _index.getTx(txid);
        if (!r.found) return "";
        uint256 idx = _be(input, 32, 2);
        uint256 maxLen = _be(input, 34, 2);
        bytes memory nonWitness = BitcoinSegwitTx.split(r.raw).nonWitness;
        if (idx >= BitcoinTx.outputCount(nonWitness)) return "";
        (uint64 value, bytes memory script) = BitcoinTx.output(nonWitness, idx);
        uint256 cut = script.length < maxLen ? script.length : maxLen;
        HvmWriter.Writer memory w = HvmWriter.init(11 + cut);
        w.uintBE(value, 8);
        w.uintBE(script.length, 2);
        w.put(script, cut);
        w.uintBE(!BtcdScript.isUnspendable(script) && !_index.isSpent(txid, idx) ? 1 : 0, 1);
        return w.done();
    }
}
