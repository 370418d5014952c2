// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHeader} from "../bitcoin/BitcoinHeader.sol";
import {BitcoinSegwitTx} from "../bitcoin/BitcoinSegwitTx.sol";
import {BitcoinTx} from "../bitcoin/BitcoinTx.sol";
import {BitcoinTxIndex} from "./BitcoinTxIndex.sol";
import {BtcdScript} from "./BtcdScript.sol";
import {HvmWriter} from "./HvmWriter.sol";
import {TxByTxidLayout} from "./TxByTxidLayout.sol";
import {TxIndexQueries} from "./TxIndexQueries.sol";

/// @title TxByTxidEncoder
/// @notice The answer of hVM 0x42 (btcTxByTxid) for a found transaction, in either layout (HEMI-FACTS §1.8):
///         [block hash][version][size, stripped size][locktime] then inputs (count, then per input
///         [witness count] prevout value [prev txid + prev index][scriptSig length + cut scriptSig][sequence]) then
///         outputs (count, then per output value [script length + cut script][unspent byte]).
/// @dev `ok` false means op-geth's empty answer: an input's source transaction (or output) not found (so a
///      coinbase with inputs asked), or witness-dependent fields asked of a transaction whose witness data is not
///      proven (entered alone, not with its whole block).
library TxByTxidEncoder {
    using HvmWriter for HvmWriter.Writer;

    /// @notice The flag bytes decoded for one layout.
    struct Flags {
        bool blockHash;
        bool witnessCount;
        bool version;
        bool sizes;
        bool locktime;
        bool inputs;
        bool source;
        bool scriptSig;
        bool sequence;
        bool outputs;
        bool outScript;
        bool unspendable;
        bool spent;
        bool current;
        uint256 maxIn;
        uint256 maxOut;
        uint256 maxSig;
        uint256 maxScript;
    }

    /// @notice Decodes the four flag bytes for `layout`.
    function flags(bytes4 f, TxByTxidLayout layout) internal pure returns (Flags memory fl) {
        uint8 f1 = uint8(f[0]);
        uint8 f2 = uint8(f[1]);
        uint8 f3 = uint8(f[2]);
        uint8 f4 = uint8(f[3]);
        fl.current = layout == TxByTxidLayout.Current;
        fl.blockHash = f1 & 0x40 != 0;
        fl.witnessCount = fl.current && fl.blockHash; // op-geth's current code reads f1 bit 6 for both
        fl.version = f1 & 0x20 != 0;
        fl.sizes = f1 & 0x10 != 0;
        fl.locktime = f1 & 0x08 != 0;
        fl.inputs = f1 & 0x04 != 0;
        fl.source = f1 & 0x02 != 0;
        fl.scriptSig = f1 & 0x01 != 0;
        fl.sequence = f2 & 0x80 != 0;
        fl.outputs = f2 & (fl.current ? 0x20 : 0x40) != 0;
        fl.outScript = f2 & (fl.current ? 0x10 : 0x20) != 0;
        fl.unspendable = f2 & 0x08 != 0;
        fl.spent = f2 & 0x04 != 0;
        fl.maxIn = 1 << ((f3 >> 3) & 7);
        fl.maxOut = 1 << (f3 & 7);
        fl.maxSig = 1 << (4 + ((f4 >> 2) & 3));
        fl.maxScript = 1 << (4 + (f4 & 3));
    }

    /// @notice Encodes the answer for the found transaction `r` (txid in internal order).
    function encode(
        BitcoinTxIndex index,
        TxIndexQueries.TxRecord memory r,
        bytes32 txid,
        Flags memory fl
    ) internal view returns (bool ok, bytes memory out) {
        if (!r.witnessKnown && (fl.sizes || (fl.inputs && fl.witnessCount))) return (false, out);
        BitcoinSegwitTx.Split memory s = BitcoinSegwitTx.split(r.raw);
        BitcoinTx.Transaction memory t = BitcoinTx.parse(s.nonWitness);
        uint256 nIn = _min(t.inputs.length, fl.maxIn);
        uint256 nOut = _min(t.outputs.length, fl.maxOut);
        HvmWriter.Writer memory w = HvmWriter.init(52 + 2 + nIn * (52 + fl.maxSig) + 2 + nOut * (11 + fl.maxScript));
        if (fl.blockHash) w.word(bytes32(BitcoinHeader.reverse256(r.blockHash)));
        if (fl.version) w.uintBE(t.version, 4);
        if (fl.sizes) {
            w.uintBE(s.size, 4);
            w.uintBE(s.nonWitness.length, 4);
        }
        if (fl.locktime) w.uintBE(t.locktime, 4);
        if (fl.inputs && !_inputs(index, w, t, s, fl, nIn)) return (false, out);
        if (fl.outputs) _outputs(index, w, t, txid, fl);
        return (true, w.done());
    }

    function _inputs(
        BitcoinTxIndex index,
        HvmWriter.Writer memory w,
        BitcoinTx.Transaction memory t,
        BitcoinSegwitTx.Split memory s,
        Flags memory fl,
        uint256 nIn
    ) private view returns (bool) {
        uint256 total = t.inputs.length;
        w.uintBE(fl.current ? _min(total, 0xffff) : total, 2);
        for (uint256 i; i < nIn; ++i) {
            BitcoinTx.TxIn memory inp = t.inputs[i];
            if (fl.witnessCount) w.uintBE(s.witnessCounts[i], 2);
            (bool found, uint64 value) = index.outputValue(inp.prevTxid, inp.prevVout);
            if (!found) return false;
            w.uintBE(value, 8);
            if (fl.source) {
                w.word(bytes32(BitcoinHeader.reverse256(inp.prevTxid)));
                w.uintBE(inp.prevVout, fl.current ? 4 : 2);
            }
            if (fl.scriptSig) {
                w.uintBE(inp.scriptSig.length, 2);
                w.put(inp.scriptSig, _min(inp.scriptSig.length, fl.maxSig));
            }
            if (fl.sequence) w.uintBE(inp.sequence, 4);
        }
        return true;
    }

    function _outputs(
        BitcoinTxIndex index,
        HvmWriter.Writer memory w,
        BitcoinTx.Transaction memory t,
        bytes32 txid,
        Flags memory fl
    ) private view {
        uint256 total = t.outputs.length;
        bool[] memory unspendable = new bool[](total);
        uint256 nUnspendable;
        for (uint256 v; v < total; ++v) {
            unspendable[v] = BtcdScript.isUnspendable(t.outputs[v].script);
            if (unspendable[v]) ++nUnspendable;
        }
        w.uintBE(fl.unspendable ? total : total - nUnspendable, 2);
        uint256 written;
        for (uint256 v; v < total; ++v) {
            if (written >= fl.maxOut) break;
            if (unspendable[v] && !fl.unspendable) continue;
            BitcoinTx.TxOut memory o = t.outputs[v];
            w.uintBE(o.value, 8);
            if (fl.outScript) {
                w.uintBE(o.script.length, 2);
                w.put(o.script, _min(o.script.length, fl.maxScript));
            }
            // 1 = still unspent (op-geth's inverted "spent" byte); an unspendable output is never in the UTXO set.
            if (fl.spent) w.uintBE(!unspendable[v] && !index.isSpent(txid, v) ? 1 : 0, 1);
            ++written;
        }
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }
}
