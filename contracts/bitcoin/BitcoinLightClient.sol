// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinDifficulty} from "./BitcoinDifficulty.sol";
import {BitcoinHash} from "./BitcoinHash.sol";
import {BitcoinHeader} from "./BitcoinHeader.sol";
import {BitcoinMerkle} from "./BitcoinMerkle.sol";
import {BitcoinTx} from "./BitcoinTx.sol";

/// @title BitcoinLightClient
/// @notice A Bitcoin header chain verified on-chain: proof of work, the network's difficulty rules, fork choice
///         by cumulative chain work, and SPV transaction proofs against the canonical chain.
/// @dev Anchored at a trusted checkpoint. Anyone may submit headers: proof of work is the security.
///
///      Storage is one slot per canonical header (its hash, by height). Everything else a child header needs to
///      be checked against a canonical parent is derived: on Mainnet and Regtest every block of a difficulty
///      epoch carries the same nBits, so one record per epoch (work before it, nBits, first and last timestamps)
///      gives any canonical block's chain work; Testnet and Testnet4, where minimum-difficulty blocks break that,
///      also keep a per-height record. Headers off the canonical chain ("forks") are stored in full, keyed by hash,
///      with the canonical block their branch joined ("base"). A canonical block displaced by a reorganisation is
///      forgotten (its height slot is rewritten); a branch through it is submitted again from the last common block.
///
///      Reorganisations: a heavier branch whose parent is canonical is written at once (one slot per header). A
///      heavier branch that ends on stored fork blocks is applied by walking down from its tip; when that walk is
///      longer than INLINE_REORG_BLOCKS it is left pending and anyone advances it with `continueReorg`. While a
///      reorganisation is pending, every view answers for the chain up to the branch's base only (a block common
///      to the old and the new chain), and no header can be submitted.
///
///      Not checked (documented limits): the median-time-past and future-time rules, and version bits.
contract BitcoinLightClient {
    /// @notice The Bitcoin network whose rules the client applies.
    enum Network {
        Mainnet,
        Testnet,
        Regtest,
        Testnet4
    }

    /// @notice An SPV proof that a transaction is in a canonical block.
    struct TxProof {
        bytes rawTx; // non-witness serialization (what the txid commits to)
        uint32 blockHeight;
        bytes blockHeader; // 80 bytes; its hash must be canonical at blockHeight
        uint256 txIndex; // position in the block
        bytes merkleProof; // 32-byte siblings, leaf to root, concatenated
    }

    /// @notice One transaction of a block, for `verifyTxsInBlock`.
    struct TxInBlock {
        bytes rawTx; // non-witness serialization (what the txid commits to)
        uint256 txIndex; // position in the block
        bytes merkleProof; // 32-byte siblings, leaf to root, concatenated
    }

    /// @notice The canonical tip, packed in one slot (its hash is the canonical hash at `height`).
    struct Tip {
        uint120 work; // cumulative chain work since (and including) the anchor
        uint32 height;
        uint32 time;
        uint32 bits;
        uint32 epochBits; // nBits of the first block of the tip's epoch (Testnet's "last normal" bits)
        bool reorgPending; // a reorganisation to this tip is still being applied (see PendingReorg)
    }

    /// @notice One record per difficulty epoch of the canonical chain.
    struct Epoch {
        uint128 workBefore; // cumulative work before the epoch's first known block
        uint32 bits; // nBits of the epoch's first block
        uint32 startTime; // timestamp of the epoch's first block
        uint32 lastTime; // timestamp of the epoch's last block, once it is canonical
    }

    /// @notice Per-height record kept on Testnet and Testnet4 only.
    struct BlockMeta {
        uint128 work;
        uint32 time;
        uint32 bits;
    }

    /// @notice A header stored off the canonical chain (or that was, when submitted).
    struct ForkBlock {
        bytes32 prevHash;
        uint128 work;
        uint32 height;
        uint32 time;
        uint32 bits;
        uint32 epochBits;
        uint32 epochStartTime;
        uint32 baseHeight; // height of the canonical block the branch joined when this block was stored
        bytes24 baseTag; // the first 24 bytes of that block's hash (internal order)
    }

    /// @notice A reorganisation being applied in steps: the blocks from the new tip down to `cursor` are written.
    struct PendingReorg {
        bytes32 cursor; // the next stored fork block to make canonical, walking down
        bytes32 oldBest; // the best block before the reorganisation
        uint32 cursorHeight; // height of `cursor`
        uint32 safeHeight; // the branch's base: the highest block known to be on both chains
        uint32 oldHeight; // height of `oldBest`
        uint32 applied; // blocks of the branch written so far
    }

    /// @dev Everything needed to check a child header, in memory.
    struct Ctx {
        bytes32 hash;
        bytes32 prevHash;
        uint256 work;
        uint32 height;
        uint32 time;
        uint32 bits;
        uint32 epochBits;
        uint32 epochStartTime;
    }

    /// @dev The decoded target and block work of one nBits value.
    struct Difficulty {
        uint32 bits;
        uint256 target;
        uint256 work;
        bool epochStartLoaded; // canonical path: whether the Ctx's epochStartTime has been read
    }

    /// @notice How far below the tip a fork's parent is searched for among canonical headers.
    uint256 public constant MAX_FORK_SEARCH = 4032;
    /// @notice Blocks of a reorganisation applied inside the `submitHeaders` call that makes a branch the heaviest;
    ///         the rest is applied by `continueReorg`.
    uint256 public constant INLINE_REORG_BLOCKS = 256;
    /// @dev Storage base of the canonical hashes: slot HASHES_SLOT + height.
    uint256 private constant HASHES_SLOT = uint256(keccak256("hemi-fabric.BitcoinLightClient.hashes")) - 1;

    /// @notice The network whose consensus rules apply.
    Network public immutable network;
    /// @notice Height of the trusted anchor header; nothing below it is known.
    uint32 public immutable anchorHeight;
    /// @notice The network's proof-of-work limit.
    uint256 public immutable powLimit;

    Tip private _tip;
    mapping(uint256 epoch => Epoch) private _epochs;
    mapping(uint256 height => BlockMeta) private _meta;
    mapping(bytes32 blockHash => ForkBlock) private _forks;
    PendingReorg private _pending;

    /// @notice Headers were stored, canonical or not.
    event HeadersAdded(bytes32 firstHash, uint32 firstHeight, uint32 count);
    /// @notice The canonical tip changed.
    event NewBestBlock(bytes32 hash, uint32 height);
    /// @notice A heavier branch replaced part of the canonical chain; `forkHeight` is the last common block.
    event Reorg(bytes32 oldBest, bytes32 newBest, uint32 forkHeight);
    /// @notice A heavier branch is being applied in steps; views answer up to `safeHeight` until `Reorg` is emitted.
    event ReorgStarted(bytes32 oldBest, bytes32 newBest, uint32 safeHeight, uint32 cursorHeight);
    /// @notice A step of a pending reorganisation: blocks down to `cursorHeight` + 1 are written, `applied` in all.
    event ReorgProgress(bytes32 newBest, uint32 cursorHeight, uint32 applied);

    /// @notice Submitted header bytes are empty or not a whole number of 80-byte headers.
    error InvalidHeadersLength(uint256 length);
    /// @notice The first header's parent is neither canonical (within MAX_FORK_SEARCH of the tip) nor a stored fork.
    error UnknownParent(bytes32 prevHash);
    /// @notice The parent is a stored fork block whose branch joined the chain at `baseHeight`, a block since
    ///         displaced by a reorganisation: submit the branch again from the last block it shares with the chain.
    error ForkBaseDisplaced(bytes32 prevHash, uint32 baseHeight);
    /// @notice A reorganisation is being applied: call `continueReorg` until it is done.
    error ReorgInProgress(uint32 cursorHeight, uint32 safeHeight);
    /// @notice `continueReorg` was called with no reorganisation pending.
    error NoReorgPending();
    /// @notice `continueReorg(0)`: at least one block must be applied.
    error ZeroReorgSteps();
    /// @notice A block the pending walk needs is not stored (cannot happen while the branch's base is canonical).
    error UnknownAncestor(bytes32 blockHash, uint32 height);
    /// @notice Header `index` of the batch does not name the previous header as its parent.
    error HeaderDoesNotLink(uint256 index, bytes32 expectedPrevHash, bytes32 prevHash);
    /// @notice The header's nBits is not what the difficulty rules require at that height.
    error UnexpectedBits(uint32 height, uint32 expected, uint32 actual);
    /// @notice The header is already stored (canonical or as a fork).
    error HeaderAlreadyKnown(bytes32 blockHash, uint32 height);
    /// @notice The epoch start timestamp does not fit the anchor.
    error InvalidEpochStart(uint32 epochStartTimestamp, uint32 anchorTimestamp);
    /// @notice A Testnet anchor at minimum difficulty in mid-epoch does not reveal the epoch's difficulty.
    error AmbiguousTestnetAnchor(uint32 bits);
    /// @notice Cumulative work no longer fits the packed storage (only possible with absurd anchors).
    error ChainWorkOverflow(uint256 work);
    /// @notice A 64-byte transaction could be an inner merkle node in disguise; it is never accepted.
    error RawTxIs64Bytes();
    /// @notice The proof's block is not canonical at the given height.
    error BlockNotCanonical(bytes32 blockHash, uint32 height);
    /// @notice The block has fewer confirmations than required.
    error InsufficientConfirmations(uint32 confirmations, uint32 required);
    /// @notice The merkle path does not lead from the transaction to the header's merkle root.
    error MerkleRootMismatch(bytes32 computedRoot, bytes32 merkleRoot);

    /// @notice Anchors the client at a trusted header.
    /// @param anchorHeader The raw 80-byte anchor header; its own proof of work is checked.
    /// @param anchorHeight_ Its height.
    /// @param epochStartTimestamp Timestamp of the first block of the anchor's difficulty epoch
    ///        (height - height % 2016), needed to check the first retarget.
    /// @param network_ Mainnet, Testnet (testnet3), Regtest or Testnet4 (BIP94) rules.
    constructor(bytes memory anchorHeader, uint32 anchorHeight_, uint32 epochStartTimestamp, Network network_) {
        BitcoinHeader.Header memory h = BitcoinHeader.parse(anchorHeader);
        uint256 limit = network_ == Network.Regtest ? BitcoinHeader.POW_LIMIT_REGTEST : BitcoinHeader.POW_LIMIT_MAINNET;
        bool perHeight = BitcoinDifficulty.hasMinDifficultyBlocks(uint8(network_));
        if (
            perHeight &&
            h.bits == BitcoinHeader.POW_LIMIT_BITS_MAINNET &&
            anchorHeight_ % BitcoinHeader.RETARGET_INTERVAL != 0
        ) revert AmbiguousTestnetAnchor(h.bits);
        uint256 target = BitcoinHeader.targetFromBits(h.bits, limit);
        BitcoinHeader.checkProofOfWork(h.hash, target);
        if (
            epochStartTimestamp > h.timestamp ||
            (anchorHeight_ % BitcoinHeader.RETARGET_INTERVAL == 0 && epochStartTimestamp != h.timestamp)
        ) revert InvalidEpochStart(epochStartTimestamp, h.timestamp);

        network = network_;
        anchorHeight = anchorHeight_;
        powLimit = limit;

        uint256 work = BitcoinHeader.workFromTarget(target);
        _setHash(anchorHeight_, h.hash);
        _tip = Tip({
            work: _toWork120(work),
            height: anchorHeight_,
            time: h.timestamp,
            bits: h.bits,
            epochBits: h.bits,
            reorgPending: false
        });
        _epochs[anchorHeight_ / BitcoinHeader.RETARGET_INTERVAL] = Epoch({
            workBefore: 0,
            bits: h.bits,
            startTime: epochStartTimestamp,
            lastTime: anchorHeight_ % BitcoinHeader.RETARGET_INTERVAL == BitcoinHeader.RETARGET_INTERVAL - 1
                ? h.timestamp
                : 0
        });
        if (perHeight) {
            _meta[anchorHeight_] = BlockMeta({work: uint128(work), time: h.timestamp, bits: h.bits});
        }
        emit NewBestBlock(h.hash, anchorHeight_);
    }

    // ------------------------------------------------------------------------------------------------------
    // Header submission
    // ------------------------------------------------------------------------------------------------------

    /// @notice Stores one or more concatenated 80-byte headers. Each must link to its predecessor, the first to
    ///         a stored header (the tip, a canonical header at most MAX_FORK_SEARCH below it, or a stored fork).
    ///         A branch heavier than the canonical chain becomes canonical (see `continueReorg` for deep branches).
    ///         Headers of a fork branch that are already stored are accepted again (so a branch can be resubmitted
    ///         from the last block it shares with the chain); a batch that adds nothing reverts HeaderAlreadyKnown.
    /// @param headers Concatenated raw headers, parent first.
    function submitHeaders(bytes calldata headers) external {
        uint256 len = headers.length;
        if (len == 0 || len % BitcoinHeader.HEADER_LENGTH != 0) revert InvalidHeadersLength(len);
        uint256 count = len / BitcoinHeader.HEADER_LENGTH;

        Tip memory tip = _tip;
        if (tip.reorgPending) revert ReorgInProgress(_pending.cursorHeight, _pending.safeHeight);
        bytes32 tipHash = _hashAt(tip.height);
        bytes32 firstPrev;
        assembly {
            firstPrev := calldataload(add(headers.offset, 4))
        }
        if (firstPrev == tipHash) {
            _extendTip(headers, count, tip, tipHash);
        } else {
            _addFork(headers, count, tip, tipHash, firstPrev);
        }
    }

    /// @dev Appends headers to the canonical tip: one new storage slot per header. Runs of headers inside a
    ///      Mainnet/Regtest epoch (same nBits, no epoch bookkeeping) take a tight assembly path; epoch boundaries
    ///      and every Testnet header take the general path.
    function _extendTip(bytes calldata headers, uint256 count, Tip memory tip, bytes32 tipHash) private {
        Ctx memory c = Ctx({
            hash: tipHash,
            prevHash: bytes32(0),
            work: tip.work,
            height: tip.height,
            time: tip.time,
            bits: tip.bits,
            epochBits: tip.epochBits,
            epochStartTime: 0 // loaded below only when a retarget needs it
        });
        Difficulty memory d;
        bool testnet = BitcoinDifficulty.hasMinDifficultyBlocks(uint8(network));
        uint256 i = 0;
        while (i < count) {
            uint256 pos = (uint256(c.height) + 1) % BitcoinHeader.RETARGET_INTERVAL;
            if (testnet || pos == 0 || pos == BitcoinHeader.RETARGET_INTERVAL - 1) {
                if (pos == 0 && !d.epochStartLoaded) {
                    c.epochStartTime = _epochs[tip.height / BitcoinHeader.RETARGET_INTERVAL].startTime;
                }
                if (pos == 0) d.epochStartLoaded = true; // from here on _advance keeps it current
                _advance(c, d, headers, i, i * BitcoinHeader.HEADER_LENGTH);
                _writeCanonical(c, testnet);
                ++i;
                continue;
            }
            if (d.bits != c.bits || d.target == 0) {
                d.target = BitcoinHeader.targetFromBits(c.bits, powLimit);
                d.work = BitcoinHeader.workFromTarget(d.target);
                d.bits = c.bits;
            }
            uint256 n = count - i;
            uint256 room = BitcoinHeader.RETARGET_INTERVAL - 1 - pos;
            if (n > room) n = room;
            _fastRun(c, d, headers, i, n);
            i += n;
        }
        _setTip(c, false);
        emit HeadersAdded(_hashAt(tip.height + 1), tip.height + 1, uint32(count));
        emit NewBestBlock(c.hash, c.height);
    }

    /// @dev Appends headers `start .. start + n - 1`, all inside one epoch and carrying the parent's nBits
    ///      (Mainnet/Regtest): link, nBits, proof of work, one SSTORE each.
    function _fastRun(Ctx memory c, Difficulty memory d, bytes calldata headers, uint256 start, uint256 n) private {
        bytes32 prev = c.hash;
        uint256 height = c.height;
        uint256 target = d.target;
        uint256 rawBits = BitcoinHeader.swap32(c.bits); // nBits as its 4 raw bytes read big-endian
        uint256 base = HASHES_SLOT;
        uint256 failure; // 0 ok, 1 link, 2 bits, 3 proof of work
        uint256 off;
        uint256 end;
        assembly {
            let ptr := mload(0x40)
            off := add(headers.offset, mul(start, 80))
            end := add(off, mul(n, 80))
            for {} lt(off, end) {} {
                if iszero(eq(calldataload(add(off, 4)), prev)) {
                    failure := 1
                    break
                }
                if iszero(eq(shr(224, calldataload(add(off, 72))), rawBits)) {
                    failure := 2
                    break
                }
                calldatacopy(ptr, off, 80)
                if iszero(staticcall(gas(), 0x02, ptr, 80, ptr, 0x20)) {
                    revert(0, 0)
                }
                if iszero(staticcall(gas(), 0x02, ptr, 0x20, ptr, 0x20)) {
                    revert(0, 0)
                }
                let h := mload(ptr)
                // The hash as a number is its bytes reversed.
                let v := or(
                    and(shr(8, h), 0x00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF),
                    shl(8, and(h, 0x00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF00FF))
                )
                v := or(
                    and(shr(16, v), 0x0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF),
                    shl(16, and(v, 0x0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF0000FFFF))
                )
                v := or(
                    and(shr(32, v), 0x00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF),
                    shl(32, and(v, 0x00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF00000000FFFFFFFF))
                )
                v := or(
                    and(shr(64, v), 0x0000000000000000FFFFFFFFFFFFFFFF0000000000000000FFFFFFFFFFFFFFFF),
                    shl(64, and(v, 0x0000000000000000FFFFFFFFFFFFFFFF0000000000000000FFFFFFFFFFFFFFFF))
                )
                v := or(shr(128, v), shl(128, v))
                if gt(v, target) {
                    failure := 3
                    break
                }
                height := add(height, 1)
                sstore(add(base, height), h)
                prev := h
                off := add(off, 80)
            }
        }
        if (failure != 0) {
            // Re-run the failing header through the general checks for a precise error.
            uint256 index = (off - start * 80 - _headersOffset(headers)) / 80 + start;
            c.hash = prev;
            c.height = uint32(height);
            _advance(c, d, headers, index, index * BitcoinHeader.HEADER_LENGTH);
            assert(false); // unreachable: _advance reverts for the same defect
        }
        uint256 lastTimeWord;
        assembly {
            lastTimeWord := calldataload(add(sub(off, 80), 68))
        }
        c.prevHash = bytes32(0); // not tracked on the canonical path (nothing reads it there)
        c.hash = prev;
        c.work += n * d.work;
        c.height = uint32(height);
        c.time = BitcoinHeader.swap32(uint32(lastTimeWord >> 224));
    }

    function _headersOffset(bytes calldata headers) private pure returns (uint256 o) {
        assembly {
            o := headers.offset
        }
    }

    /// @dev Checks headers that branch off below the tip. A branch that ends heavier than the canonical chain is
    ///      made canonical (at once from a canonical parent, else by the walk through its stored blocks); a lighter
    ///      one is stored as fork blocks.
    function _addFork(
        bytes calldata headers,
        uint256 count,
        Tip memory tip,
        bytes32 tipHash,
        bytes32 firstPrev
    ) private {
        (Ctx memory parent, bool parentCanonical, uint32 baseHeight, bytes24 baseTag) = _findParent(firstPrev, tip);
        Ctx[] memory branch = _checkBranch(headers, count, parent, tip.height);
        if (branch[count - 1].work > tip.work) {
            emit HeadersAdded(branch[0].hash, branch[0].height, uint32(count));
            _becomeBest(branch, tipHash, tip.height, parentCanonical, baseHeight);
            return;
        }
        bool added;
        for (uint256 k = 0; k < count; ++k) {
            if (_storeFork(branch[k], baseHeight, baseTag)) added = true;
        }
        if (!added) revert HeaderAlreadyKnown(branch[0].hash, branch[0].height);
        emit HeadersAdded(branch[0].hash, branch[0].height, uint32(count));
    }

    /// @dev Checks each header of a branch on `parent`; none may be canonical already.
    function _checkBranch(
        bytes calldata headers,
        uint256 count,
        Ctx memory parent,
        uint32 tipHeight
    ) private view returns (Ctx[] memory branch) {
        branch = new Ctx[](count);
        Difficulty memory d;
        Ctx memory c = parent;
        for (uint256 i = 0; i < count; ++i) {
            Ctx memory child = _copy(c);
            _advance(child, d, headers, i, i * BitcoinHeader.HEADER_LENGTH);
            if (_isCanonical(child.hash, child.height, tipHeight)) revert HeaderAlreadyKnown(child.hash, child.height);
            branch[i] = child;
            c = child;
        }
    }

    /// @dev Stores a fork block, or refreshes the base of a stored one; false when nothing changed.
    function _storeFork(Ctx memory c, uint32 baseHeight, bytes24 baseTag) private returns (bool) {
        ForkBlock storage f = _forks[c.hash];
        if (f.work != 0) {
            if (f.baseHeight == baseHeight && f.baseTag == baseTag) return false;
            f.baseHeight = baseHeight;
            f.baseTag = baseTag;
            return true;
        }
        _forks[c.hash] = ForkBlock({
            prevHash: c.prevHash,
            work: _toWork128(c.work),
            height: c.height,
            time: c.time,
            bits: c.bits,
            epochBits: c.epochBits,
            epochStartTime: c.epochStartTime,
            baseHeight: baseHeight,
            baseTag: baseTag
        });
        return true;
    }

    /// @dev Makes the heavier branch ending at `branch[last]` canonical: the batch's own blocks at once, then (when
    ///      the batch's parent is a stored fork block) the stored blocks below it, walking down to the chain.
    function _becomeBest(
        Ctx[] memory branch,
        bytes32 oldTipHash,
        uint32 oldHeight,
        bool parentCanonical,
        uint32 baseHeight
    ) private {
        for (uint256 k = 0; k < branch.length; ++k) _applyCanonical(branch[k]);
        Ctx memory top = branch[branch.length - 1];
        uint32 parentHeight = branch[0].height - 1;
        if (parentCanonical) {
            _setTip(top, false);
            emit Reorg(oldTipHash, top.hash, parentHeight);
            emit NewBestBlock(top.hash, top.height);
            return;
        }
        PendingReorg memory p = PendingReorg({
            cursor: branch[0].prevHash,
            oldBest: oldTipHash,
            cursorHeight: parentHeight,
            safeHeight: baseHeight,
            oldHeight: oldHeight,
            applied: uint32(branch.length)
        });
        if (_walk(p, INLINE_REORG_BLOCKS)) {
            _setTip(top, false);
            emit Reorg(oldTipHash, top.hash, p.cursorHeight);
            emit NewBestBlock(top.hash, top.height);
            return;
        }
        _setTip(top, true);
        _pending = p;
        emit ReorgStarted(oldTipHash, top.hash, p.safeHeight, p.cursorHeight);
        emit ReorgProgress(top.hash, p.cursorHeight, p.applied);
    }

    /// @notice Advances a pending reorganisation by at most `maxBlocks` blocks. Anyone may call it.
    /// @dev About 10k gas per block. Emits ReorgProgress, and Reorg + NewBestBlock when the branch is fully applied.
    /// @param maxBlocks The most blocks to write in this call (at least 1).
    /// @return done True when the reorganisation is complete.
    function continueReorg(uint32 maxBlocks) external returns (bool done) {
        Tip memory tip = _tip;
        if (!tip.reorgPending) revert NoReorgPending();
        if (maxBlocks == 0) revert ZeroReorgSteps();
        PendingReorg memory p = _pending;
        bytes32 newBest = _hashAt(tip.height);
        done = _walk(p, maxBlocks);
        if (done) {
            delete _pending;
            _tip.reorgPending = false;
            emit ReorgProgress(newBest, p.cursorHeight, p.applied);
            emit Reorg(p.oldBest, newBest, p.cursorHeight);
            emit NewBestBlock(newBest, tip.height);
        } else {
            _pending.cursor = p.cursor;
            _pending.cursorHeight = p.cursorHeight;
            _pending.applied = p.applied;
            emit ReorgProgress(newBest, p.cursorHeight, p.applied);
        }
    }

    /// @dev Writes stored fork blocks canonical from `p.cursor` down, at most `budget` of them; true once the cursor
    ///      is a block the old chain already has at its height (the fork point, at or above the branch's base).
    function _walk(PendingReorg memory p, uint256 budget) private returns (bool) {
        bool perHeight = BitcoinDifficulty.hasMinDifficultyBlocks(uint8(network));
        while (true) {
            uint32 h = p.cursorHeight;
            if (h <= p.oldHeight && _hashAt(h) == p.cursor) return true;
            if (budget == 0) return false;
            ForkBlock storage f = _forks[p.cursor];
            Ctx memory c;
            c.work = f.work;
            if (c.work == 0 || h <= p.safeHeight || f.height != h) revert UnknownAncestor(p.cursor, h);
            c.hash = p.cursor;
            c.height = h;
            c.time = f.time;
            c.bits = f.bits;
            _writeCanonical(c, perHeight);
            p.cursor = f.prevHash;
            p.cursorHeight = h - 1;
            ++p.applied;
            --budget;
        }
        return false; // unreachable
    }

    /// @dev Writes a block of a branch becoming canonical.
    function _applyCanonical(Ctx memory c) private {
        _writeCanonical(c, BitcoinDifficulty.hasMinDifficultyBlocks(uint8(network)));
    }

    /// @dev Records `c` as the canonical block at its height, with its epoch (and per-height) bookkeeping. Blocks
    ///      may be written in any order (a reorganisation walks down), so the epoch's first block keeps `lastTime`.
    function _writeCanonical(Ctx memory c, bool perHeight) private {
        uint32 height = c.height;
        _setHash(height, c.hash);
        if (perHeight) _meta[height] = BlockMeta({work: _toWork128(c.work), time: c.time, bits: c.bits});
        uint256 pos = height % BitcoinHeader.RETARGET_INTERVAL;
        if (pos == 0) {
            Epoch storage ep = _epochs[height / BitcoinHeader.RETARGET_INTERVAL];
            uint256 blockWork = BitcoinHeader.workFromTarget(BitcoinHeader.targetFromBits(c.bits, powLimit));
            ep.workBefore = _toWork128(c.work - blockWork);
            ep.bits = c.bits;
            ep.startTime = c.time;
        } else if (pos == BitcoinHeader.RETARGET_INTERVAL - 1) {
            _epochs[height / BitcoinHeader.RETARGET_INTERVAL].lastTime = c.time;
        }
    }

    function _setTip(Ctx memory c, bool reorgPending) private {
        _tip = Tip({
            work: _toWork120(c.work),
            height: c.height,
            time: c.time,
            bits: c.bits,
            epochBits: c.epochBits,
            reorgPending: reorgPending
        });
    }

    /// @dev Reverts unless `bits` is what the network's rules require of a child of `c` (and, on Testnet4, the
    ///      child's time passes the time-warp rule).
    function _checkBits(Ctx memory c, uint32 height, uint32 time, uint32 bits) private view {
        uint8 net = uint8(network);
        uint32 expected = BitcoinDifficulty.expectedBits(
            net,
            BitcoinDifficulty.Parent({
                bits: c.bits,
                time: c.time,
                epochBits: c.epochBits,
                epochStartTime: c.epochStartTime
            }),
            height,
            time,
            powLimit
        );
        if (bits != expected) revert UnexpectedBits(height, expected, bits);
        BitcoinDifficulty.checkTimeWarp(net, height, time, c.time);
    }

    /// @dev Checks header `i` (at offset `p`) as the child of `c` and turns `c` into that child. `d` caches the
    ///      target and work of the last nBits seen.
    function _advance(Ctx memory c, Difficulty memory d, bytes calldata headers, uint256 i, uint256 p) private view {
        (bytes32 prev, uint32 time, uint32 bits) = _fields(headers, p);
        if (prev != c.hash) revert HeaderDoesNotLink(i, c.hash, prev);
        if (bits != d.bits || d.target == 0) {
            d.target = BitcoinHeader.targetFromBits(bits, powLimit);
            d.work = BitcoinHeader.workFromTarget(d.target);
            d.bits = bits;
        }
        uint32 height = c.height + 1;
        bool newEpoch = height % BitcoinHeader.RETARGET_INTERVAL == 0;
        _checkBits(c, height, time, bits);
        bytes32 blockHash = _hashHeader(headers, p);
        BitcoinHeader.checkProofOfWork(blockHash, d.target);
        c.prevHash = c.hash;
        c.hash = blockHash;
        c.work += d.work;
        c.height = height;
        c.time = time;
        c.bits = bits;
        if (newEpoch) {
            c.epochBits = bits;
            c.epochStartTime = time;
        }
    }

    /// @dev Finds the stored parent of a branch that does not extend the tip, whether it is canonical, and the
    ///      canonical block the branch joins (the parent itself, or the stored fork's base, which must still be
    ///      canonical).
    function _findParent(
        bytes32 prevHash,
        Tip memory tip
    ) private view returns (Ctx memory c, bool canonical, uint32 baseHeight, bytes24 baseTag) {
        ForkBlock storage f = _forks[prevHash];
        if (f.work != 0) {
            baseHeight = f.baseHeight;
            baseTag = f.baseTag;
            if (!_baseCanonical(baseHeight, baseTag, tip.height)) revert ForkBaseDisplaced(prevHash, baseHeight);
            return (_forkCtx(prevHash), false, baseHeight, baseTag);
        }
        uint256 stop = tip.height > anchorHeight + MAX_FORK_SEARCH ? tip.height - MAX_FORK_SEARCH : anchorHeight;
        for (uint256 h = tip.height; h > stop;) {
            unchecked {
                --h;
            }
            if (_hashAt(h) == prevHash) return (_canonicalCtx(uint32(h), prevHash), true, uint32(h), bytes24(prevHash));
        }
        revert UnknownParent(prevHash);
    }

    /// @dev Whether the block recorded as a branch's base (height and hash prefix) is still canonical.
    function _baseCanonical(uint32 height, bytes24 tag, uint32 tipHeight) private view returns (bool) {
        return height >= anchorHeight && height <= tipHeight && bytes24(_hashAt(height)) == tag;
    }

    /// @dev Context of a canonical block below the tip, derived from the epoch (or Testnet per-height) records.
    function _canonicalCtx(uint32 height, bytes32 blockHash) private view returns (Ctx memory c) {
        uint256 e = height / BitcoinHeader.RETARGET_INTERVAL;
        Epoch memory ep = _epochs[e];
        c.hash = blockHash;
        c.height = height;
        c.epochBits = ep.bits;
        c.epochStartTime = ep.startTime;
        if (BitcoinDifficulty.hasMinDifficultyBlocks(uint8(network))) {
            BlockMeta memory m = _meta[height];
            c.work = m.work;
            c.time = m.time;
            c.bits = m.bits;
        } else {
            uint256 first = e * BitcoinHeader.RETARGET_INTERVAL;
            if (first < anchorHeight) first = anchorHeight;
            uint256 blockWork = BitcoinHeader.workFromTarget(BitcoinHeader.targetFromBits(ep.bits, powLimit));
            c.work = ep.workBefore + (height - first + 1) * blockWork;
            c.bits = ep.bits;
            // Only a child starting a new epoch needs its parent's time, and then the parent is the epoch's last.
            c.time = height % BitcoinHeader.RETARGET_INTERVAL == BitcoinHeader.RETARGET_INTERVAL - 1 ? ep.lastTime : 0;
        }
    }

    /// @dev Context of a stored fork block.
    function _forkCtx(bytes32 blockHash) private view returns (Ctx memory c) {
        ForkBlock storage f = _forks[blockHash];
        c.hash = blockHash;
        c.prevHash = f.prevHash;
        c.work = f.work;
        c.height = f.height;
        c.time = f.time;
        c.bits = f.bits;
        c.epochBits = f.epochBits;
        c.epochStartTime = f.epochStartTime;
    }

    function _copy(Ctx memory c) private pure returns (Ctx memory) {
        return
            Ctx({
                hash: c.hash,
                prevHash: c.prevHash,
                work: c.work,
                height: c.height,
                time: c.time,
                bits: c.bits,
                epochBits: c.epochBits,
                epochStartTime: c.epochStartTime
            });
    }

    /// @dev Reads prevHash, timestamp and nBits of the header at offset `p`.
    function _fields(bytes calldata headers, uint256 p) private pure returns (bytes32 prev, uint32 time, uint32 bits) {
        uint256 w;
        assembly {
            let at := add(headers.offset, p)
            prev := calldataload(add(at, 4))
            w := calldataload(add(at, 68))
        }
        time = BitcoinHeader.swap32(uint32(w >> 224));
        bits = BitcoinHeader.swap32(uint32(w >> 192));
    }

    /// @dev hash256 of the 80-byte header at offset `p`.
    function _hashHeader(bytes calldata headers, uint256 p) private view returns (bytes32 digest) {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            calldatacopy(ptr, add(headers.offset, p), 80)
            if iszero(staticcall(gas(), 0x02, ptr, 80, ptr, 0x20)) {
                revert(0, 0)
            }
            if iszero(staticcall(gas(), 0x02, ptr, 0x20, ptr, 0x20)) {
                revert(0, 0)
            }
            digest := mload(ptr)
        }
    }

    function _toWork120(uint256 work) private pure returns (uint120) {
        if (work > type(uint120).max) revert ChainWorkOverflow(work);
        return uint120(work);
    }

    function _toWork128(uint256 work) private pure returns (uint128) {
        if (work > type(uint128).max) revert ChainWorkOverflow(work);
        return uint128(work);
    }

    function _setHash(uint256 height, bytes32 blockHash) private {
        uint256 slot = HASHES_SLOT + height;
        assembly {
            sstore(slot, blockHash)
        }
    }

    function _hashAt(uint256 height) private view returns (bytes32 blockHash) {
        uint256 slot = HASHES_SLOT + height;
        assembly {
            blockHash := sload(slot)
        }
    }

    function _isCanonical(bytes32 blockHash, uint32 height, uint32 tipHeight) private view returns (bool) {
        return height >= anchorHeight && height <= tipHeight && _hashAt(height) == blockHash;
    }

    // ------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------

    /// @dev The height up to which the views answer: the tip, or while a reorganisation is pending the branch's
    ///      base (the highest block known to be on both the old and the new chain).
    function _viewHeight() private view returns (uint32) {
        Tip memory tip = _tip;
        return tip.reorgPending ? _pending.safeHeight : tip.height;
    }

    /// @notice The canonical tip. While a reorganisation is pending: the last block common to the old and the new
    ///         chain (see `pendingReorg`).
    /// @return hash Its hash (internal byte order).
    /// @return height Its height.
    function bestBlock() external view returns (bytes32 hash, uint32 height) {
        height = _viewHeight();
        hash = _hashAt(height);
    }

    /// @notice Cumulative chain work of the block `bestBlock` returns, counted from the anchor (inclusive).
    function bestChainWork() external view returns (uint256) {
        Tip memory tip = _tip;
        if (!tip.reorgPending) return tip.work;
        uint32 h = _pending.safeHeight;
        return _canonicalCtx(h, _hashAt(h)).work;
    }

    /// @notice The canonical block hash at `height` (internal byte order), or zero when unknown (above `bestBlock`).
    function blockHashAt(uint32 height) external view returns (bytes32) {
        if (height < anchorHeight || height > _viewHeight()) return bytes32(0);
        return _hashAt(height);
    }

    /// @notice Whether `blockHash` is the canonical block at `height` (at or below `bestBlock`).
    function isCanonical(bytes32 blockHash, uint32 height) external view returns (bool) {
        return _isCanonical(blockHash, height, _viewHeight());
    }

    /// @notice Confirmations of a block: 0 unless `blockHash` is canonical at `height`, else best height - height + 1
    ///         (best height as `bestBlock` answers it).
    function confirmations(bytes32 blockHash, uint32 height) external view returns (uint32) {
        uint32 best = _viewHeight();
        if (!_isCanonical(blockHash, height, best)) return 0;
        return best - height + 1;
    }

    /// @notice Whether a header is stored so that a child of it can be submitted: canonical at `height`, or a stored
    ///         fork block at `height` whose branch still joins the canonical chain.
    function isKnown(bytes32 blockHash, uint32 height) external view returns (bool) {
        uint32 best = _viewHeight();
        if (_isCanonical(blockHash, height, best)) return true;
        ForkBlock storage f = _forks[blockHash];
        return f.work != 0 && f.height == height && _baseCanonical(f.baseHeight, f.baseTag, best);
    }

    /// @notice The reorganisation being applied, if any.
    /// @return pending Whether one is pending (then submitHeaders reverts ReorgInProgress until it is done).
    /// @return newBest The tip it leads to, and its height.
    /// @return newHeight Height of `newBest`.
    /// @return cursorHeight The highest height still to be written (blocks above it are written).
    /// @return safeHeight The height the views answer up to meanwhile.
    /// @return applied Blocks written so far.
    function pendingReorg()
        external
        view
        returns (
            bool pending,
            bytes32 newBest,
            uint32 newHeight,
            uint32 cursorHeight,
            uint32 safeHeight,
            uint32 applied
        )
    {
        Tip memory tip = _tip;
        if (!tip.reorgPending) return (false, bytes32(0), 0, 0, 0, 0);
        PendingReorg memory p = _pending;
        return (true, _hashAt(tip.height), tip.height, p.cursorHeight, p.safeHeight, p.applied);
    }

    /// @notice A stored fork block, or all zeros when `blockHash` was never stored as a fork.
    function forkBlock(bytes32 blockHash) external view returns (ForkBlock memory) {
        return _forks[blockHash];
    }

    /// @notice Verifies that a transaction is in a canonical block with at least `minConfirmations`.
    /// @dev Rejects 64-byte transactions (inner-node forgery), malformed transactions, proofs whose length does not
    ///      fit the index, duplicated-node positions, non-canonical blocks and under-confirmed blocks.
    /// @param proof The raw transaction, its block header and height, index and merkle siblings.
    /// @param minConfirmations Confirmations the block must have (1 = in the tip).
    /// @return txid The transaction id (internal byte order).
    function verifyTx(TxProof calldata proof, uint32 minConfirmations) external view returns (bytes32 txid) {
        bytes32 merkleRoot = _checkBlock(proof.blockHeader, proof.blockHeight, minConfirmations);
        txid = _checkTx(proof.rawTx, proof.txIndex, proof.merkleProof, merkleRoot);
    }

    /// @notice Verifies several transactions of one block, checking the block (length, canonical at `blockHeight`,
    ///         confirmations) once and each transaction as `verifyTx` does.
    /// @dev Same errors as `verifyTx`. An empty list only checks the block.
    /// @param blockHeader The raw 80-byte header of the block holding every transaction.
    /// @param blockHeight Its height.
    /// @param minConfirmations Confirmations the block must have (1 = in the tip).
    /// @param txs Each transaction (non-witness serialization), its index in the block and its merkle siblings.
    /// @return txids The transaction ids, in the order of `txs` (internal byte order).
    function verifyTxsInBlock(
        bytes calldata blockHeader,
        uint32 blockHeight,
        uint32 minConfirmations,
        TxInBlock[] calldata txs
    ) external view returns (bytes32[] memory txids) {
        bytes32 merkleRoot = _checkBlock(blockHeader, blockHeight, minConfirmations);
        uint256 n = txs.length;
        txids = new bytes32[](n);
        for (uint256 i; i < n; ++i) {
            TxInBlock calldata t = txs[i];
            txids[i] = _checkTx(t.rawTx, t.txIndex, t.merkleProof, merkleRoot);
        }
    }

    /// @dev Checks a proof's block: 80 bytes, canonical at `height`, enough confirmations; returns its merkle root.
    function _checkBlock(
        bytes calldata header,
        uint32 height,
        uint32 minConfirmations
    ) private view returns (bytes32 merkleRoot) {
        if (header.length != BitcoinHeader.HEADER_LENGTH) revert BitcoinHeader.InvalidHeaderLength(header.length);
        bytes32 blockHash = _hashHeader(header, 0);
        uint32 best = _viewHeight();
        if (!_isCanonical(blockHash, height, best)) revert BlockNotCanonical(blockHash, height);
        uint32 conf = best - height + 1;
        if (conf < minConfirmations) revert InsufficientConfirmations(conf, minConfirmations);
        assembly {
            merkleRoot := calldataload(add(header.offset, 36))
        }
    }

    /// @dev Checks one transaction of a block: not 64 bytes, well formed, and on the merkle path to `merkleRoot`.
    function _checkTx(
        bytes calldata raw,
        uint256 txIndex,
        bytes calldata siblings,
        bytes32 merkleRoot
    ) private view returns (bytes32 txid) {
        if (raw.length == 64) revert RawTxIs64Bytes();
        bytes memory rawTx = raw;
        BitcoinTx.validate(rawTx);
        txid = BitcoinHash.hash256(rawTx);
        bytes32 root = BitcoinMerkle.computeRoot(txid, siblings, txIndex);
        if (root != merkleRoot) revert MerkleRootMismatch(root, merkleRoot);
    }
}
