// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {BitcoinHash} from "../bitcoin/BitcoinHash.sol";
import {BitcoinLightClient} from "../bitcoin/BitcoinLightClient.sol";

/// @title KeystoneLedger
/// @notice The sequencer's record of this chain's keystones: every `interval`-th EVM block, summarised in Hemi's
///         76-byte abbreviated keystone and identified by its hash256 (the id PoP miners publish on Bitcoin).
/// @dev Layout of the abbreviation (integers big-endian, hash fields are the FIRST bytes of the hash):
///      version(1) = 1 | btcHeight(4) | l2BlockNumber(4) | parentEPHash(11) | prevKeystoneEPHash(12) |
///      stateRoot(32) | EPHash(12). Hemi puts its L1 block number in the 4-byte height field; here it carries
///      the light client's best Bitcoin height.
///
///      What the contract checks (everything the EVM can see): the length and version; the block number is a
///      keystone height (a multiple of `interval`, above zero), in the past, and the next one after the last
///      recorded keystone (no skipped heights; the first one is `firstKeystoneNumber`, the first keystone height
///      after deployment); the EP hash prefix against `blockhash(n)` and the parent hash prefix against
///      `blockhash(n - 1)`; the previous-keystone prefix against the previous recorded keystone's EP hash (or,
///      for the first keystone, against `blockhash(n - interval)`); the Bitcoin height is at most the light
///      client's best height and not below the previous keystone's. The state root is the sequencer's
///      attestation: the EVM cannot see it.
///
///      Block hashes older than 256 blocks are not available to the EVM. A keystone recorded late, when
///      `blockhash(n - 1)` is gone, is still accepted (the chain of keystones must never stall) but its hash
///      fields are then only the sequencer's word: the record and the event carry `hashesChecked = false`, and
///      off-chain checkers (verify-anchors) compare them with the EVM node. The same applies to the first
///      keystone's previous-keystone prefix when `blockhash(n - interval)` is gone.
contract KeystoneLedger is AccessControl {
    /// @notice The role allowed to record keystones.
    bytes32 public constant SEQUENCER_ROLE = keccak256("SEQUENCER_ROLE");
    /// @notice Length of the abbreviated keystone.
    uint256 public constant ABBREV_LENGTH = 76;
    /// @notice The only abbreviation version.
    uint8 public constant ABBREV_VERSION = 1;

    /// @notice One recorded keystone.
    struct Keystone {
        bytes32 id; // hash256 of the 76 bytes, internal order (display: reversed)
        uint32 l2BlockNumber;
        uint32 btcHeight;
        uint64 recordedAtBlock; // EVM block in which it was recorded
        bytes12 epHashPrefix; // first 12 bytes of the keystone block's hash
        bool hashesChecked; // false when recorded too late for blockhash (see the contract notes)
    }

    /// @notice The light client whose best height bounds the Bitcoin height field.
    BitcoinLightClient public immutable lightClient;
    /// @notice Keystone interval in EVM blocks, fixed at deployment.
    uint32 public immutable interval;
    /// @notice The first keystone height this ledger records: the first multiple of `interval` after deployment.
    uint32 public immutable firstKeystoneNumber;

    /// @notice Height of the last recorded keystone (0 before the first).
    uint32 public lastKeystoneNumber;

    mapping(uint32 l2BlockNumber => Keystone) private _byNumber;
    mapping(bytes32 id => uint32 l2BlockNumber) private _numberOf;

    /// @notice A keystone was recorded.
    /// @param id hash256 of `abbrev` (internal order).
    /// @param l2BlockNumber The keystone's EVM block number.
    /// @param btcHeight The Bitcoin height field.
    /// @param hashesChecked Whether the hash prefixes were checked against `blockhash`.
    /// @param abbrev The 76-byte abbreviated keystone.
    event KeystoneRecorded(
        bytes32 indexed id,
        uint32 indexed l2BlockNumber,
        uint32 btcHeight,
        bool hashesChecked,
        bytes abbrev
    );

    /// @notice The interval is zero.
    error InvalidInterval(uint32 interval);
    /// @notice The abbreviation is not 76 bytes long.
    error InvalidAbbrevLength(uint256 length);
    /// @notice The abbreviation's version byte is not 1.
    error InvalidAbbrevVersion(uint8 version);
    /// @notice The block number is not the next keystone height (`expected`).
    error UnexpectedKeystoneNumber(uint32 l2BlockNumber, uint32 expected);
    /// @notice The keystone block is not in the past yet.
    error KeystoneBlockInFuture(uint32 l2BlockNumber, uint256 currentBlock);
    /// @notice The EP hash prefix is not the first 12 bytes of `blockhash(l2BlockNumber)`.
    error EPHashMismatch(uint32 l2BlockNumber, bytes12 expected, bytes12 actual);
    /// @notice The parent hash prefix is not the first 11 bytes of `blockhash(l2BlockNumber - 1)`.
    error ParentHashMismatch(uint32 l2BlockNumber, bytes11 expected, bytes11 actual);
    /// @notice The previous-keystone prefix is not the EP hash prefix of the keystone `interval` blocks before.
    error PrevKeystoneMismatch(uint32 l2BlockNumber, bytes12 expected, bytes12 actual);
    /// @notice The Bitcoin height is outside [previous keystone's height, light client's best height].
    error BtcHeightOutOfRange(uint32 btcHeight, uint32 min, uint32 max);
    /// @notice No keystone with this id (or number) is recorded.
    error UnknownKeystone(bytes32 id);

    /// @notice Deploys the ledger.
    /// @param lightClient_ The Bitcoin light client (bounds the Bitcoin height field).
    /// @param interval_ Keystone interval in EVM blocks (Hemi: 25).
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (grants SEQUENCER_ROLE).
    constructor(BitcoinLightClient lightClient_, uint32 interval_, address admin) {
        if (interval_ == 0) revert InvalidInterval(interval_);
        lightClient = lightClient_;
        interval = interval_;
        firstKeystoneNumber = uint32((block.number / interval_ + 1) * interval_);
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @notice Records the next keystone. Sequencer only.
    /// @dev Reverts with the errors above; see the contract notes for every check.
    /// @param abbrev The 76-byte abbreviated keystone.
    /// @return id Its hash256 (internal order).
    function recordKeystone(bytes calldata abbrev) external onlyRole(SEQUENCER_ROLE) returns (bytes32 id) {
        (uint32 n, uint32 btcHeight, bool checked) = _validate(abbrev);
        id = BitcoinHash.hash256(abbrev);
        _byNumber[n] = Keystone({
            id: id,
            l2BlockNumber: n,
            btcHeight: btcHeight,
            recordedAtBlock: uint64(block.number),
            epHashPrefix: bytes12(abbrev[64:76]),
            hashesChecked: checked
        });
        _numberOf[id] = n;
        lastKeystoneNumber = n;
        emit KeystoneRecorded(id, n, btcHeight, checked, abbrev);
    }

    /// @dev Every check of `recordKeystone`; returns the keystone number, the Bitcoin height and whether the hash
    ///      prefixes could be checked against `blockhash`.
    function _validate(bytes calldata abbrev) private view returns (uint32 n, uint32 btcHeight, bool checked) {
        if (abbrev.length != ABBREV_LENGTH) revert InvalidAbbrevLength(abbrev.length);
        uint8 version = uint8(abbrev[0]);
        if (version != ABBREV_VERSION) revert InvalidAbbrevVersion(version);
        btcHeight = uint32(bytes4(abbrev[1:5]));
        n = uint32(bytes4(abbrev[5:9]));

        uint32 last = lastKeystoneNumber;
        uint32 expected = last == 0 ? firstKeystoneNumber : last + interval;
        if (n != expected) revert UnexpectedKeystoneNumber(n, expected);
        if (n >= block.number) revert KeystoneBlockInFuture(n, block.number);

        checked = _checkHashes(n, bytes11(abbrev[9:20]), bytes12(abbrev[64:76]));
        if (!_checkPrevLink(n, last, bytes12(abbrev[20:32]))) checked = false;

        uint32 minBtc = last == 0 ? 0 : _byNumber[last].btcHeight;
        (, uint32 best) = lightClient.bestBlock();
        if (btcHeight < minBtc || btcHeight > best) revert BtcHeightOutOfRange(btcHeight, minBtc, best);
    }

    /// @dev Checks the previous-keystone prefix: against the last recorded keystone's EP hash, or for the first
    ///      keystone against `blockhash(n - interval)` (false when the EVM no longer has it).
    function _checkPrevLink(uint32 n, uint32 last, bytes12 prevPrefix) private view returns (bool) {
        bytes12 expected;
        if (last == 0) {
            bytes32 prevHash = blockhash(n - interval);
            if (prevHash == bytes32(0)) return false;
            expected = bytes12(prevHash);
        } else {
            expected = _byNumber[last].epHashPrefix;
        }
        if (expected != prevPrefix) revert PrevKeystoneMismatch(n, expected, prevPrefix);
        return true;
    }

    /// @dev Checks the EP and parent hash prefixes when the EVM still has both block hashes; false when it has not.
    function _checkHashes(uint32 n, bytes11 parentPrefix, bytes12 epPrefix) private view returns (bool) {
        bytes32 parent = blockhash(n - 1);
        bytes32 own = blockhash(n);
        if (parent == bytes32(0) || own == bytes32(0)) return false;
        if (bytes12(own) != epPrefix) revert EPHashMismatch(n, bytes12(own), epPrefix);
        if (bytes11(parent) != parentPrefix) revert ParentHashMismatch(n, bytes11(parent), parentPrefix);
        return true;
    }

    /// @notice The keystone number of a recorded id, or 0 when the id is not recorded.
    /// @param id hash256 of the abbreviation (internal order).
    function numberOf(bytes32 id) external view returns (uint32) {
        return _numberOf[id];
    }

    /// @notice Whether a keystone with this id is recorded.
    /// @param id hash256 of the abbreviation (internal order).
    function isRecorded(bytes32 id) external view returns (bool) {
        return _numberOf[id] != 0;
    }

    /// @notice The keystone recorded at EVM block `l2BlockNumber` (all zeros when none).
    /// @param l2BlockNumber A keystone height.
    function keystoneAt(uint32 l2BlockNumber) external view returns (Keystone memory) {
        return _byNumber[l2BlockNumber];
    }

    /// @notice The keystone with this id; reverts UnknownKeystone when it is not recorded.
    /// @param id hash256 of the abbreviation (internal order).
    function keystoneById(bytes32 id) external view returns (Keystone memory) {
        uint32 n = _numberOf[id];
        if (n == 0) revert UnknownKeystone(id);
        return _byNumber[n];
    }

    /// @notice The keystone height that covers EVM block `l2BlockNumber`: the block itself when it is a keystone
    ///         height, else the next keystone height; never below the first keystone (whose hash chain covers
    ///         every earlier block).
    /// @param l2BlockNumber Any EVM block number.
    function coveringKeystone(uint32 l2BlockNumber) public view returns (uint32) {
        uint256 k = ((uint256(l2BlockNumber) + interval - 1) / interval) * interval;
        if (k < firstKeystoneNumber) k = firstKeystoneNumber;
        return uint32(k);
    }
}
