// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHash} from "../bitcoin/BitcoinHash.sol";
import {BitcoinLightClient} from "../bitcoin/BitcoinLightClient.sol";
import {BitcoinSegwitTx} from "../bitcoin/BitcoinSegwitTx.sol";
import {BitcoinTx} from "../bitcoin/BitcoinTx.sol";
import {BlockCompleteness} from "./BlockCompleteness.sol";
import {BtcdScript} from "./BtcdScript.sol";
import {BytecodeStore} from "./BytecodeStore.sol";
import {TxIndexStorage} from "./TxIndexStorage.sol";

/// @title TxIndexWriter
/// @notice The two ways data enters the index, both permissionless and both proven against the light client:
///         one transaction with an SPV proof, or a whole block proven complete.
abstract contract TxIndexWriter is TxIndexStorage {
    /// @notice The header is not 80 bytes.
    error BadHeaderLength(uint256 length);
    /// @notice The block is not canonical in the light client at that height.
    error BlockNotInLightClient(bytes32 blockHash, uint32 height);
    /// @notice The block was already indexed whole.
    error BlockAlreadyIndexed(bytes32 blockHash);
    /// @notice The transaction is already indexed in that block.
    error TxAlreadyIndexed(bytes32 txid, bytes32 blockHash);
    /// @notice A block needs at least its coinbase.
    error EmptyBlock();
    /// @notice A 64-byte transaction could be an inner merkle node; refused.
    error TxIs64Bytes(uint256 txIndex);

    /// @notice Indexes one transaction with an SPV proof (`BitcoinLightClient.verifyTx`, 1 confirmation).
    /// @dev Its outputs and spends count like those of a whole block; its witness data is not proven, so answers
    ///      that need it (sizes, witness counts, witness items) stay empty until its whole block is indexed.
    /// @param proof The proof (non-witness rawTx).
    /// @return txid The txid (internal order).
    function indexTx(BitcoinLightClient.TxProof calldata proof) external returns (bytes32 txid) {
        txid = lightClient.verifyTx(proof, 1);
        bytes32 blockHash = BitcoinHash.hash256(proof.blockHeader);
        if (_occursIn(txid, blockHash)) revert TxAlreadyIndexed(txid, blockHash);
        BlockRecord storage b = _blocks[blockHash];
        bytes memory raw = proof.rawTx;
        address blob;
        uint32 offset;
        if (b.headerBlob == address(0)) {
            blob = BytecodeStore.write(bytes.concat(proof.blockHeader, raw));
            offset = 80;
            b.headerBlob = blob;
            b.height = proof.blockHeight;
        } else {
            blob = BytecodeStore.write(raw);
        }
        uint32 position = uint32(proof.txIndex);
        _record(txid, BitcoinTx.parse(raw), Occurrence(blockHash, blob, offset, uint32(raw.length), position));
        emit TxIndexed(txid, blockHash, proof.blockHeight, position);
    }

    /// @notice Indexes a whole block: every transaction in order, full serialization (witness included).
    /// @dev Proven complete: the txids hash to the header's merkle root, the first is a coinbase, and the witness
    ///      data matches the coinbase's BIP-141 commitment (or no transaction has any when there is none).
    ///      Calldata and storage grow with the block: see the README's limits.
    /// @param header The raw 80-byte header; it must be canonical in the light client at `height`.
    /// @param height The block height.
    /// @param txs The transactions, full serialization.
    function indexBlock(bytes calldata header, uint32 height, bytes[] calldata txs) external {
        if (header.length != 80) revert BadHeaderLength(header.length);
        bytes32 blockHash = BitcoinHash.hash256(header);
        if (!lightClient.isCanonical(blockHash, height)) revert BlockNotInLightClient(blockHash, height);
        BlockRecord storage b = _blocks[blockHash];
        if (b.complete) revert BlockAlreadyIndexed(blockHash);
        uint256 n = txs.length;
        if (n == 0) revert EmptyBlock();
        bytes[] memory raws = new bytes[](n);
        BitcoinSegwitTx.Split[] memory splits = new BitcoinSegwitTx.Split[](n);
        bytes32[] memory txids = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            raws[i] = txs[i];
            splits[i] = BitcoinSegwitTx.split(raws[i]);
            if (splits[i].nonWitness.length == 64) revert TxIs64Bytes(i);
            txids[i] = BitcoinSegwitTx.txid(splits[i]);
        }
        bytes32 root;
        assembly {
            root := calldataload(add(header.offset, 36))
        }
        BlockCompleteness.check(root, raws, splits, txids);
        _storeBlock(b, bytes(header), height, raws, splits, txids, blockHash);
        b.height = height;
        b.txCount = uint32(n);
        b.complete = true;
        emit BlockIndexed(blockHash, height, uint32(n));
    }

    /// @dev Packs the header and the transactions into data contracts and records every transaction.
    function _storeBlock(
        BlockRecord storage b,
        bytes memory header,
        uint32 height,
        bytes[] memory raws,
        BitcoinSegwitTx.Split[] memory splits,
        bytes32[] memory txids,
        bytes32 blockHash
    ) private {
        uint256 n = raws.length;
        // Assign each transaction a blob (chunk) and an offset; a chunk holds at most MAX_BLOB bytes.
        uint256[] memory chunkOf = new uint256[](n);
        uint256[] memory offsetOf = new uint256[](n);
        uint256 chunks = 1;
        uint256 fill = 80;
        for (uint256 i; i < n; ++i) {
            uint256 len = raws[i].length;
            if (fill + len > BytecodeStore.MAX_BLOB) {
                ++chunks;
                fill = 0;
            }
            chunkOf[i] = chunks - 1;
            offsetOf[i] = fill;
            fill += len;
        }
        address[] memory blobs = _writeChunks(header, raws, chunkOf, chunks);
        if (b.headerBlob == address(0)) b.headerBlob = blobs[0];
        b.height = height;
        for (uint256 i; i < n; ++i) {
            Occurrence memory occ = Occurrence(
                blockHash,
                blobs[chunkOf[i]],
                uint32(offsetOf[i]),
                uint32(raws[i].length),
                uint32(i)
            );
            _record(txids[i], BitcoinTx.parse(splits[i].nonWitness), occ);
        }
    }

    /// @dev Adds an occurrence. The first occurrence of a txid also records its outputs (by script) and its spends;
    ///      a later one in the same block replaces the stored serialization (now with proven witness data).
    function _record(bytes32 txid, BitcoinTx.Transaction memory txn, Occurrence memory occ) private {
        Occurrence storage first = _firstOcc[txid];
        if (first.blob == address(0)) {
            _firstOcc[txid] = occ;
            _recordContent(txid, txn);
            return;
        }
        if (first.blockHash == occ.blockHash) {
            _firstOcc[txid] = occ;
            return;
        }
        Occurrence[] storage more = _moreOcc[txid];
        for (uint256 i; i < more.length; ++i) {
            if (more[i].blockHash == occ.blockHash) {
                more[i] = occ;
                return;
            }
        }
        more.push(occ);
    }

    /// @dev Outputs into the per-script lists (spendable ones only), inputs into the spender lists.
    function _recordContent(bytes32 txid, BitcoinTx.Transaction memory txn) private {
        uint256 nOut = txn.outputs.length;
        for (uint256 v; v < nOut; ++v) {
            BitcoinTx.TxOut memory o = txn.outputs[v];
            if (BtcdScript.isUnspendable(o.script)) continue;
            _scriptOutputs[keccak256(o.script)].push(OutRef(txid, uint32(v), o.value));
        }
        uint256 nIn = txn.inputs.length;
        for (uint256 i; i < nIn; ++i) {
            BitcoinTx.TxIn memory inp = txn.inputs[i];
            if (inp.prevTxid == bytes32(0) && inp.prevVout == type(uint32).max) continue; // coinbase
            bytes32 op = _outpoint(inp.prevTxid, inp.prevVout);
            if (_firstSpender[op] == bytes32(0)) _firstSpender[op] = txid;
            else _moreSpenders[op].push(txid);
        }
    }

    /// @dev Writes chunk c: the header first (chunk 0), then the transactions assigned to it, in order.
    function _writeChunks(
        bytes memory header,
        bytes[] memory raws,
        uint256[] memory chunkOf,
        uint256 chunks
    ) private returns (address[] memory blobs) {
        uint256 n = raws.length;
        blobs = new address[](chunks);
        uint256 first;
        for (uint256 c; c < chunks; ++c) {
            uint256 last = first;
            uint256 size = c == 0 ? 80 : 0;
            while (last < n && chunkOf[last] == c) size += raws[last++].length;
            bytes memory data = new bytes(size);
            uint256 at;
            if (c == 0) {
                _copy(data, 0, header);
                at = 80;
            }
            for (uint256 i = first; i < last; ++i) {
                _copy(data, at, raws[i]);
                at += raws[i].length;
            }
            blobs[c] = BytecodeStore.write(data);
            first = last;
        }
    }

    /// @dev Copies `src` into `dst` at `at` (the caller sized `dst`).
    function _copy(bytes memory dst, uint256 at, bytes memory src) private pure {
        assembly ("memory-safe") {
            mcopy(add(add(dst, 0x20), at), add(src, 0x20), mload(src))
        }
    }
}
