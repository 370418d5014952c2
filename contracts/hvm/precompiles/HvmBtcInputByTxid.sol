// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinSegwitTx} from "../../bitcoin/BitcoinSegwitTx.sol";
import {BitcoinTx} from "../../bitcoin/BitcoinTx.sol";
import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {HvmWriter} from "../HvmWriter.sol";
import {TxIndexQueries} from "../TxIndexQueries.sol";
import {HvmPrecompile} from "./HvmPrecompile.sol";

/// @title HvmBtcInputByTxid
/// @notice hVM 0x47 btcInputByTxid: txid (32, display) | input index (2 BE) | max scriptSig length (2 BE) in;
///         witness count (2) | prevout value (8) | prev txid (32, display) | prev index (2, clamped to 65535) |
///         scriptSig length (2) | scriptSig cut to the max | sequence (4) out (op-geth's newest offsets).
/// @dev Empty answer for an input that is not 36 bytes, an unknown txid, an index out of range, a source output
///      not found (a coinbase input) or a transaction whose witness data is not proven.
contract HvmBtcInputByTxid is HvmPrecompile {
    using HvmWriter for HvmWriter.Writer;

    constructor(BitcoinTxIndex index_) HvmPrecompile(index_) {}

    /// @notice The precompile: raw bytes in, raw bytes out.
    // A precompile has only its fallback: the fallback is the whole interface.
    // solhint-disable-next-line no-complex-fallback
    fallback(bytes calldata input) external returns (bytes memory) {
        if (input.length != 36) return "";
        TxIndexQueries.TxRecord memory r = _index.getTx(_txidOf(input));
        if (!r.found || !r.witnessKnown) return "";
        uint256 idx = _be(input, 32, 2);
        uint256 maxLen = _be(input, 34, 2);
        BitcoinSegwitTx.Split memory s = BitcoinSegwitTx.split(r.raw);
        if (idx >= s.witnessCounts.length) return "";
        BitcoinTx.TxIn memory inp = BitcoinTx.input(s.nonWitness, idx);
        (bool found, uint64 value) = _index.outputValue(inp.prevTxid, inp.prevVout);
        if (!found) return "";
        uint256 cut = inp.scriptSig.length < maxLen ? inp.scriptSig.length : maxLen;
        HvmWriter.Writer memory w = HvmWriter.init(50 + cut + 4);
        w.uintBE(s.witnessCounts[idx], 2);
        w.uintBE(value, 8);
        w.word(_flip(inp.prevTxid));
        w.uintBE(inp.prevVout > 0xffff ? 0xffff : inp.prevVout, 2);
        w.uintBE(inp.scriptSig.length, 2);
        w.put(inp.scriptSig, cut);
        w.uintBE(inp.sequence, 4);
        return w.done();
    }
}
