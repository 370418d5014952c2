// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinLightClient} from "../bitcoin/BitcoinLightClient.sol";
import {BytecodeStore} from "./BytecodeStore.sol";

/// @title TxIndexStorage
/// @notice State of the Bitcoin transaction index and the rule every answer follows: a record counts only while its
///         block is canonical in the light client AT QUERY TIME and at most at height best - lag (the hVM's view).
/// @dev Records are never deleted: a block reorganised away keeps its records, which simply stop counting, and
///      count again if the block comes back.
abstract contract TxIndexStorage {
    /// @notice A block the index knows (some or all of its transactions).
    struct BlockRecord {
        uint32 height;
        uint32 txCount; // all transactions, once complete
        bool complete; // every transaction indexed, witness data proven
        address headerBlob; // data contract whose first 80 bytes are the header
    }

    /// @notice Where one transaction of one block is stored.
    struct Occurrence {
        bytes32 blockHash; // internal order
        address blob; // data contract holding the serialization
        uint32 offset; // in the blob
        uint32 length;
        uint32 position; // index in the block
    }

    /// @notice An output paying a script (recorded when its transaction is first indexed; spendable outputs only).
    struct OutRef {
        bytes32 txid; // internal order
        uint32 vout;
        uint64 value;
    }

    /// @notice The light client whose canonical chain every answer follows.
    BitcoinLightClient public immutable lightClient;
    /// @notice Blocks hidden at the tip: records count up to height best - lag (Hemi: 2).
    uint32 public immutable lag;

    mapping(bytes32 blockHash => BlockRecord) internal _blocks;
    mapping(bytes32 txid => Occurrence) internal _firstOcc;
    mapping(bytes32 txid => Occurrence[]) internal _moreOcc;
    mapping(bytes32 scriptHash => OutRef[]) internal _scriptOutputs;
    mapping(bytes32 outpoint => bytes32) internal _firstSpender;
    mapping(bytes32 outpoint => bytes32[]) internal _moreSpenders;

    /// @notice A transaction entered alone with an SPV proof.
    event TxIndexed(bytes32 indexed txid, bytes32 indexed blockHash, uint32 height, uint32 position);
    /// @notice A whole block entered, proven complete.
    event BlockIndexed(bytes32 indexed blockHash, uint32 height, uint32 txCount);

    constructor(BitcoinLightClient lightClient_, uint32 lag_) {
        lightClient = lightClient_;
        lag = lag_;
    }

    /// @dev The light client's best height and the highest height the index answers for (`ok` false when
    ///      best < lag, so nothing is visible yet).
    function _view() internal view returns (bool ok, uint32 best, uint32 top) {
        (, best) = lightClient.bestBlock();
        if (best < lag) return (false, best, 0);
        return (true, best, best - lag);
    }

    /// @dev Whether a known block counts: height <= top and canonical now.
    function _counts(bytes32 blockHash, uint32 top) internal view returns (bool, uint32 height) {
        BlockRecord storage b = _blocks[blockHash];
        height = b.height;
        if (b.headerBlob == address(0) || height > top) return (false, height);
        return (lightClient.blockHashAt(height) == blockHash, height);
    }

    /// @dev The occurrence of `txid` in a counting block, if any.
    function _lookup(
        bytes32 txid,
        uint32 top
    ) internal view returns (bool found, Occurrence memory occ, uint32 height) {
        occ = _firstOcc[txid];
        if (occ.blob == address(0)) return (false, occ, 0);
        (found, height) = _counts(occ.blockHash, top);
        if (found) return (found, occ, height);
        Occurrence[] storage more = _moreOcc[txid];
        for (uint256 i; i < more.length; ++i) {
            occ = more[i];
            (found, height) = _counts(occ.blockHash, top);
            if (found) return (found, occ, height);
        }
    }

    /// @dev Whether `txid` has an occurrence in `blockHash`.
    function _occursIn(bytes32 txid, bytes32 blockHash) internal view returns (bool) {
        Occurrence storage first = _firstOcc[txid];
        if (first.blob == address(0)) return false;
        if (first.blockHash == blockHash) return true;
        Occurrence[] storage more = _moreOcc[txid];
        for (uint256 i; i < more.length; ++i) if (more[i].blockHash == blockHash) return true;
        return false;
    }

    /// @dev Whether a spender of `outpoint` is in a counting block.
    function _spentInView(bytes32 outpoint, uint32 top) internal view returns (bool) {
        bytes32 s = _firstSpender[outpoint];
        if (s == bytes32(0)) return false;
        (bool found, , ) = _lookup(s, top);
        if (found) return true;
        bytes32[] storage more = _moreSpenders[outpoint];
        for (uint256 i; i < more.length; ++i) {
            (found, , ) = _lookup(more[i], top);
            if (found) return true;
        }
        return false;
    }

    /// @dev The serialization an occurrence points to.
    function _raw(Occurrence memory occ) internal view returns (bytes memory) {
        return BytecodeStore.read(occ.blob, occ.offset, occ.length);
    }

    /// @dev Key of an outpoint.
    function _outpoint(bytes32 txid, uint256 vout) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(txid, uint32(vout)));
    }
}
