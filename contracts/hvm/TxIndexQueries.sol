// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinSegwitTx} from "../bitcoin/BitcoinSegwitTx.sol";
import {BitcoinTx} from "../bitcoin/BitcoinTx.sol";
import {BytecodeStore} from "./BytecodeStore.sol";
import {TxIndexStorage} from "./TxIndexStorage.sol";

/// @title TxIndexQueries
/// @notice What the hVM emulators ask the index. Every answer follows the light client's canonical chain at query
///         time, up to height best - lag: a transaction of a block reorganised away (or above that height) is not
///         found, and a spend in such a block does not count.
abstract contract TxIndexQueries is TxIndexStorage {
    /// @notice A transaction as the index sees it now.
    struct TxRecord {
        bool found;
        bytes32 blockHash; // internal order
        uint32 height;
        uint32 position; // index in the block
        bool witnessKnown; // the serialization is the full one (its block was indexed whole)
        bytes raw; // full serialization when witnessKnown, else the non-witness one
    }

    /// @notice The light client's best height and the highest height answers cover (ok false: best < lag).
    function tipView() external view returns (bool ok, uint32 best, uint32 top) {
        return _view();
    }

    /// @notice The record of a block (all zero when unknown).
    function blockRecord(bytes32 blockHash) external view returns (BlockRecord memory) {
        return _blocks[blockHash];
    }

    /// @notice Heights in [from, to] whose canonical block (per the light client now) is not indexed whole; at most
    ///         `max` of them, lowest first. For feeders: one call finds the gaps, including new blocks after a reorg.
    function missingBlocks(uint32 from, uint32 to, uint256 max) external view returns (uint32[] memory heights) {
        heights = new uint32[](max);
        uint256 n;
        for (uint32 h = from; h <= to && n < max; ++h) {
            bytes32 blockHash = lightClient.blockHashAt(h);
            if (blockHash == bytes32(0) || _blocks[blockHash].complete) continue;
            heights[n++] = h;
        }
        assembly ("memory-safe") {
            mstore(heights, n)
        }
    }

    /// @notice Whether `txid` is recorded in block `blockHash` (canonical or not, visible or not).
    function hasOccurrence(bytes32 txid, bytes32 blockHash) external view returns (bool) {
        return _occursIn(txid, blockHash);
    }

    /// @notice The transaction `txid` (internal order) if it is in a counting block.
    function getTx(bytes32 txid) external view returns (TxRecord memory r) {
        (bool ok, , uint32 top) = _view();
        if (!ok) return r;
        Occurrence memory occ;
        (r.found, occ, r.height) = _lookup(txid, top);
        if (!r.found) return r;
        r.blockHash = occ.blockHash;
        r.position = occ.position;
        r.witnessKnown = _blocks[occ.blockHash].complete;
        r.raw = _raw(occ);
    }

    /// @notice Value of output `vout` of `txid`; found is false when the transaction is not found or has no such
    ///         output.
    function outputValue(bytes32 txid, uint256 vout) external view returns (bool found, uint64 value) {
        (bool ok, , uint32 top) = _view();
        if (!ok) return (false, 0);
        Occurrence memory occ;
        (found, occ, ) = _lookup(txid, top);
        if (!found) return (false, 0);
        bytes memory nonWitness = BitcoinSegwitTx.split(_raw(occ)).nonWitness;
        if (vout >= BitcoinTx.outputCount(nonWitness)) return (false, 0);
        (value, ) = BitcoinTx.output(nonWitness, vout);
    }

    /// @notice Whether a transaction in a counting block spends output `vout` of `txid`.
    function isSpent(bytes32 txid, uint256 vout) external view returns (bool) {
        (bool ok, , uint32 top) = _view();
        return ok && _spentInView(_outpoint(txid, vout), top);
    }

    /// @notice The unspent outputs paying the script with keccak256 `scriptHash`, ordered by txid (internal byte
    ///         order) then output index, skipping `start` and returning at most `count`.
    function unspentOutputs(
        bytes32 scriptHash,
        uint256 start,
        uint256 count
    ) external view returns (OutRef[] memory page) {
        OutRef[] memory all = _unspent(scriptHash);
        uint256 n = all.length;
        // Insertion sort (lists are short: see the README's limits).
        for (uint256 i = 1; i < n; ++i) {
            OutRef memory x = all[i];
            uint256 j = i;
            while (j > 0 && _less(x, all[j - 1])) {
                all[j] = all[j - 1];
                --j;
            }
            all[j] = x;
        }
        uint256 from = start < n ? start : n;
        uint256 to = n - from < count ? n : from + count;
        page = new OutRef[](to - from);
        for (uint256 i = from; i < to; ++i) page[i - from] = all[i];
    }

    /// @notice Sum of the unspent outputs paying the script with keccak256 `scriptHash`.
    function balanceOf(bytes32 scriptHash) external view returns (uint64 sats) {
        OutRef[] memory all = _unspent(scriptHash);
        for (uint256 i; i < all.length; ++i) sats += all[i].value;
    }

    /// @notice The raw 80-byte header of the canonical block at `height`, if indexed and at most best - lag.
    function headerAt(uint32 height) external view returns (bool found, bytes memory header) {
        (bool ok, , uint32 top) = _view();
        if (!ok || height > top) return (false, header);
        bytes32 blockHash = lightClient.blockHashAt(height);
        address blob = _blocks[blockHash].headerBlob;
        if (blockHash == bytes32(0) || blob == address(0)) return (false, header);
        return (true, BytecodeStore.read(blob, 0, 80));
    }

    /// @dev Unspent outputs of a script, unordered.
    function _unspent(bytes32 scriptHash) private view returns (OutRef[] memory out) {
        (bool ok, , uint32 top) = _view();
        OutRef[] storage list = _scriptOutputs[scriptHash];
        uint256 n = list.length;
        out = new OutRef[](n);
        if (!ok) {
            assembly ("memory-safe") {
                mstore(out, 0)
            }
            return out;
        }
        uint256 k;
        for (uint256 i; i < n; ++i) {
            OutRef memory r = list[i];
            (bool found, , ) = _lookup(r.txid, top);
            if (!found || _spentInView(_outpoint(r.txid, r.vout), top)) continue;
            out[k++] = r;
        }
        assembly ("memory-safe") {
            mstore(out, k)
        }
    }

    function _less(OutRef memory a, OutRef memory b) private pure returns (bool) {
        if (a.txid != b.txid) return uint256(a.txid) < uint256(b.txid);
        return a.vout < b.vout;
    }
}
