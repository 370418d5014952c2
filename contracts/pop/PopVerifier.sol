// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHash} from "../bitcoin/BitcoinHash.sol";
import {BitcoinLightClient} from "../bitcoin/BitcoinLightClient.sol";
import {BitcoinTx} from "../bitcoin/BitcoinTx.sol";
import {BytesSlice} from "../bitcoin/BytesSlice.sol";
import {KeystoneLedger} from "./KeystoneLedger.sol";
import {Secp256k1} from "./Secp256k1.sol";

/// @title PopVerifier
/// @notice Proof-of-Proof publications: Bitcoin transactions that carry one of this chain's recorded keystones,
///         proven with an SPV proof against the light client, and the Bitcoin finality they give (BFG's rule).
/// @dev A PoP transaction has popm's shape: exactly one input, a P2PKH spend whose scriptSig is
///      `<DER signature + sighash type, 71..73 bytes> <33-byte compressed public key>`, and exactly one output
///      whose script is `6a 4c 50 "HEMI" <76-byte abbreviated keystone>` (83 bytes). The miner is the EVM address
///      of that public key (decompressed on chain).
///
///      A publication is kept with the Bitcoin block it was proven in. Canonicality is checked when it is read
///      (finality, rewards), so a publication whose block was reorganised away stops counting; the same
///      transaction can then be proven again in its new block. The same transaction in the same block is
///      refused. At most MAX_PUBLICATIONS publications are kept per keystone; once full, a slot whose block is no
///      longer canonical is reused.
///
///      Finality follows BFG (heminetwork service/bfg): for the keystone covering a block, effective
///      confirmations = best Bitcoin height - height of the first canonical publication, taking the best value
///      among the keystone and its later keystones (no +1); superfinal at >= SUPERFINALITY_DEPTH (10). The
///      scan covers the keystone and at most MAX_DESCENDANTS (10) later recorded keystones, and stops early once
///      the best value reaches ULTRA_FINALITY_DEPTH (20). (BFG continues in further batches of 10; a bound keeps
///      the view's gas bounded.)
contract PopVerifier {
    /// @notice BFG's superfinality threshold (effective confirmations).
    uint32 public constant SUPERFINALITY_DEPTH = 10;
    /// @notice BFG's ultra-finality depth: the scan of later keystones stops once reached.
    uint32 public constant ULTRA_FINALITY_DEPTH = 20;
    /// @notice Later keystones scanned for inherited finality (BFG's batch size).
    uint32 public constant MAX_DESCENDANTS = 10;
    /// @notice Publications kept per keystone (Hemi's V2 payout bound).
    uint256 public constant MAX_PUBLICATIONS = 75;
    /// @notice Length of the PoP OP_RETURN script.
    uint256 public constant POP_SCRIPT_LENGTH = 83;

    /// @dev `6a 4c 50 48 45 4d 49`: OP_RETURN OP_PUSHDATA1 80 "HEMI", the first 7 bytes of the PoP script.
    bytes7 private constant POP_SCRIPT_PREFIX = 0x6a4c5048454d49;

    /// @notice One publication of a keystone on Bitcoin.
    struct Publication {
        bytes32 txid; // internal order
        bytes32 btcBlockHash; // internal order; the block it was proven in
        uint32 btcHeight;
        address miner; // EVM address of the input's public key
        uint64 submittedAtBlock; // EVM block of the proof
    }

    /// @notice The finality of a keystone by BFG's rule.
    struct Finality {
        uint32 keystoneNumber; // the keystone asked about (covering the block)
        bool recorded; // the keystone is recorded in the ledger
        bool published; // some canonical publication of it or of a scanned later keystone exists
        uint32 fromKeystone; // the keystone whose publication gives the best value
        uint32 pubBtcHeight; // height of that first canonical publication
        bytes32 pubBtcBlockHash; // its block (internal order)
        uint32 btcTipHeight; // the light client's best height
        uint32 effectiveConfirmations; // btcTipHeight - pubBtcHeight (0 when not published)
        bool superfinal; // effectiveConfirmations >= SUPERFINALITY_DEPTH
    }

    /// @notice The light client that proves publications and decides what is canonical.
    BitcoinLightClient public immutable lightClient;
    /// @notice The ledger of recorded keystones.
    KeystoneLedger public immutable ledger;
    /// @notice The ledger's keystone interval (cached).
    uint32 public immutable interval;

    mapping(uint32 keystoneNumber => Publication[]) private _pubs;
    mapping(bytes32 txAtBlock => bool) private _recorded;

    /// @notice A publication was proven.
    /// @param keystoneId The keystone's id (internal order).
    /// @param keystoneNumber The keystone's EVM block number.
    /// @param miner The PoP miner's EVM address.
    /// @param txid The Bitcoin transaction (internal order).
    /// @param btcBlockHash Its block (internal order).
    /// @param btcHeight The block's height.
    /// @param slot Index of the publication in the keystone's list.
    event PopSubmitted(
        bytes32 indexed keystoneId,
        uint32 indexed keystoneNumber,
        address indexed miner,
        bytes32 txid,
        bytes32 btcBlockHash,
        uint32 btcHeight,
        uint256 slot
    );

    /// @notice The PoP transaction must have exactly one input.
    error PopInputCount(uint256 count);
    /// @notice The input's scriptSig is not `<signature 71..73 bytes> <33-byte compressed key>`.
    error NotP2pkhInput(bytes scriptSig);
    /// @notice No output carries the 83-byte HEMI script.
    error NoHemiOutput();
    /// @notice Two outputs carry a HEMI script; a PoP transaction carries exactly one.
    error MultipleHemiOutputs(uint256 firstIndex, uint256 secondIndex);
    /// @notice The published keystone is not recorded in the ledger.
    error KeystoneNotRecorded(bytes32 keystoneId);
    /// @notice This transaction is already recorded in this block.
    error PublicationAlreadyRecorded(bytes32 txid, bytes32 btcBlockHash);
    /// @notice The keystone has MAX_PUBLICATIONS publications, all in canonical blocks.
    error TooManyPublications(uint32 keystoneNumber, uint256 max);
    /// @notice No keystone with this id is recorded.
    error UnknownKeystone(bytes32 keystoneId);

    /// @notice Deploys the verifier.
    /// @param lightClient_ The Bitcoin light client.
    /// @param ledger_ The keystone ledger.
    constructor(BitcoinLightClient lightClient_, KeystoneLedger ledger_) {
        lightClient = lightClient_;
        ledger = ledger_;
        interval = ledger_.interval();
    }

    /// @notice Proves a PoP publication. Anyone may call.
    /// @dev Reverts with the light client's proof errors, BitcoinTx's parse errors, or the errors above.
    /// @param proof SPV proof of the PoP transaction (at least one confirmation).
    /// @return keystoneNumber The published keystone's EVM block number.
    /// @return miner The PoP miner's EVM address.
    function submitPop(
        BitcoinLightClient.TxProof calldata proof
    ) external returns (uint32 keystoneNumber, address miner) {
        Publication memory p;
        p.txid = lightClient.verifyTx(proof, 1);
        p.btcBlockHash = BitcoinHash.hash256(proof.blockHeader);
        p.btcHeight = proof.blockHeight;
        p.submittedAtBlock = uint64(block.number);
        bytes32 key = keccak256(abi.encode(p.txid, p.btcBlockHash));
        if (_recorded[key]) revert PublicationAlreadyRecorded(p.txid, p.btcBlockHash);

        bytes32 keystoneId;
        (keystoneId, miner) = _parsePop(proof.rawTx);
        p.miner = miner;
        keystoneNumber = ledger.numberOf(keystoneId);
        if (keystoneNumber == 0) revert KeystoneNotRecorded(keystoneId);

        _recorded[key] = true;
        uint256 slot = _store(keystoneNumber, p);
        emit PopSubmitted(keystoneId, keystoneNumber, miner, p.txid, p.btcBlockHash, p.btcHeight, slot);
    }

    /// @dev The keystone id and the miner of a PoP transaction, or the shape errors.
    function _parsePop(bytes memory rawTx) private view returns (bytes32 keystoneId, address miner) {
        BitcoinTx.Transaction memory t = BitcoinTx.parse(rawTx);
        if (t.inputs.length != 1) revert PopInputCount(t.inputs.length);
        miner = Secp256k1.toAddress(_p2pkhPubkey(t.inputs[0].scriptSig));
        keystoneId = BitcoinHash.hash256(_keystoneOf(t.outputs));
    }

    /// @dev Appends, or (when full) reuses a slot whose block is no longer canonical.
    function _store(uint32 keystoneNumber, Publication memory p) private returns (uint256 slot) {
        Publication[] storage ps = _pubs[keystoneNumber];
        uint256 n = ps.length;
        if (n < MAX_PUBLICATIONS) {
            ps.push(p);
            return n;
        }
        for (uint256 i; i < n; ++i) {
            if (!_isCanonical(ps[i])) {
                delete _recorded[keccak256(abi.encode(ps[i].txid, ps[i].btcBlockHash))];
                ps[i] = p;
                return i;
            }
        }
        revert TooManyPublications(keystoneNumber, MAX_PUBLICATIONS);
    }

    /// @dev The public key of a `<sig> <compressed key>` scriptSig, or NotP2pkhInput.
    function _p2pkhPubkey(bytes memory s) private pure returns (bytes memory) {
        uint256 len = s.length;
        if (len < 1) revert NotP2pkhInput(s);
        uint256 sigLen = uint8(s[0]);
        if (
            sigLen < 71 ||
            sigLen > 73 ||
            len != sigLen + 35 ||
            uint8(s[1]) != 0x30 ||
            uint8(s[sigLen + 1]) != 33 ||
            (uint8(s[sigLen + 2]) != 0x02 && uint8(s[sigLen + 2]) != 0x03)
        ) revert NotP2pkhInput(s);
        return BytesSlice.slice(s, sigLen + 2, 33);
    }

    /// @dev The 76-byte keystone of the one HEMI output, or NoHemiOutput / MultipleHemiOutputs.
    function _keystoneOf(BitcoinTx.TxOut[] memory outs) private pure returns (bytes memory) {
        uint256 found = type(uint256).max;
        for (uint256 i; i < outs.length; ++i) {
            bytes memory s = outs[i].script;
            if (s.length != POP_SCRIPT_LENGTH) continue;
            bytes7 prefix;
            assembly ("memory-safe") {
                prefix := mload(add(s, 0x20))
            }
            if (prefix != POP_SCRIPT_PREFIX) continue;
            if (found != type(uint256).max) revert MultipleHemiOutputs(found, i);
            found = i;
        }
        if (found == type(uint256).max) revert NoHemiOutput();
        return BytesSlice.slice(outs[found].script, 7, 76);
    }

    function _isCanonical(Publication storage p) private view returns (bool) {
        return lightClient.blockHashAt(p.btcHeight) == p.btcBlockHash;
    }

    // ------------------------------------------------------------------------------------------------------
    // Views
    // ------------------------------------------------------------------------------------------------------

    /// @notice BFG's finality of EVM block `l2BlockNumber` (through the keystone covering it).
    /// @param l2BlockNumber Any EVM block number.
    /// @return effectiveConfirmations Best Bitcoin height - height of the first canonical publication (0 if none).
    /// @return superfinal Whether effectiveConfirmations >= 10 (and something is published).
    function finality(uint32 l2BlockNumber) external view returns (uint32 effectiveConfirmations, bool superfinal) {
        Finality memory f = _finalityOfKeystone(ledger.coveringKeystone(l2BlockNumber));
        return (f.effectiveConfirmations, f.superfinal);
    }

    /// @notice The full finality record of EVM block `l2BlockNumber` (through the keystone covering it).
    /// @param l2BlockNumber Any EVM block number.
    function finalityDetails(uint32 l2BlockNumber) external view returns (Finality memory) {
        return _finalityOfKeystone(ledger.coveringKeystone(l2BlockNumber));
    }

    /// @notice The finality record of a keystone by id (BFG's `/v2/keystonefinality/{hash}`); reverts UnknownKeystone.
    /// @param keystoneId hash256 of the abbreviation (internal order).
    function keystoneFinality(bytes32 keystoneId) external view returns (Finality memory) {
        uint32 n = ledger.numberOf(keystoneId);
        if (n == 0) revert UnknownKeystone(keystoneId);
        return _finalityOfKeystone(n);
    }

    /// @notice The first canonical publication of a keystone (lowest height).
    /// @param keystoneNumber The keystone's EVM block number.
    /// @return found Whether a canonical publication exists.
    /// @return pub The publication.
    function firstCanonicalPublication(uint32 keystoneNumber) public view returns (bool found, Publication memory pub) {
        Publication[] storage ps = _pubs[keystoneNumber];
        uint256 n = ps.length;
        uint32 best = type(uint32).max;
        uint256 bestIndex;
        for (uint256 i; i < n; ++i) {
            uint32 h = ps[i].btcHeight;
            if (h < best && _isCanonical(ps[i])) {
                best = h;
                bestIndex = i;
                found = true;
            }
        }
        if (found) pub = ps[bestIndex];
    }

    /// @notice Every publication kept for a keystone, canonical or not (see `isCanonical`).
    /// @param keystoneNumber The keystone's EVM block number.
    function publications(uint32 keystoneNumber) external view returns (Publication[] memory) {
        return _pubs[keystoneNumber];
    }

    /// @notice Number of publications kept for a keystone.
    /// @param keystoneNumber The keystone's EVM block number.
    function publicationCount(uint32 keystoneNumber) external view returns (uint256) {
        return _pubs[keystoneNumber].length;
    }

    /// @notice Whether a transaction was proven in a given block.
    /// @param txid The transaction (internal order).
    /// @param btcBlockHash The block (internal order).
    function isRecorded(bytes32 txid, bytes32 btcBlockHash) external view returns (bool) {
        return _recorded[keccak256(abi.encode(txid, btcBlockHash))];
    }

    function _finalityOfKeystone(uint32 k) private view returns (Finality memory f) {
        f.keystoneNumber = k;
        uint32 last = ledger.lastKeystoneNumber();
        (, uint32 tip) = lightClient.bestBlock();
        f.btcTipHeight = tip;
        if (k > last || k < ledger.firstKeystoneNumber()) return f;
        f.recorded = true;
        for (uint256 i; i <= MAX_DESCENDANTS; ++i) {
            uint256 kk = uint256(k) + i * interval;
            if (kk > last) break;
            (bool found, Publication memory p) = firstCanonicalPublication(uint32(kk));
            if (found && (!f.published || p.btcHeight < f.pubBtcHeight)) {
                f.published = true;
                f.fromKeystone = uint32(kk);
                f.pubBtcHeight = p.btcHeight;
                f.pubBtcBlockHash = p.btcBlockHash;
                f.effectiveConfirmations = tip - p.btcHeight;
                if (f.effectiveConfirmations >= ULTRA_FINALITY_DEPTH) break;
            }
        }
        f.superfinal = f.published && f.effectiveConfirmations >= SUPERFINALITY_DEPTH;
    }
}
