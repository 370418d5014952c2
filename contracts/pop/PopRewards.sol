// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {BitcoinLightClient} from "../bitcoin/BitcoinLightClient.sol";
import {KeystoneLedger} from "./KeystoneLedger.sol";
import {PopRewardToken} from "./PopRewardToken.sol";
import {PopVerifier} from "./PopVerifier.sol";

/// @title PopRewards
/// @notice Pays PoP miners by Hemi's V2 scoring (pop-payouts PoPPayoutsV2): each canonical publication of a
///         keystone scores by its delay in Bitcoin blocks after that keystone's first canonical publication,
///         100000 / max(delay, 1)^2 rounded as Hemi's table [100000, 100000, 25000, 11111, 6250, 4000, 2778, 2041,
///         1563]; a delay of 9 or more scores nothing. The keystone's pool is split pro rata by score.
/// @dev Differences from Hemi, by design: the payout is a call anyone may make once the keystone is
///      `payoutDelay` EVM blocks old (Hemi: a system transaction 200 L2 blocks after the keystone), the pool is a
///      fixed amount per keystone set by the admin (V2's retargeting over 12 rounds is not implemented), and the
///      reward is minted in this contract's own PopRewardToken. Publications are read from the PopVerifier
///      (at most 75 per keystone) and only those in canonical Bitcoin blocks at payout time count; each keystone
///      is paid once, so a publication proven after the payout is not rewarded. Integer division leaves dust
///      unminted.
contract PopRewards is AccessControl {
    /// @notice Publications this many Bitcoin blocks (or more) after the first score nothing.
    uint32 public constant MAX_PUBLICATION_DELAY = 9;

    /// @notice The verifier whose publications are rewarded.
    PopVerifier public immutable verifier;
    /// @notice The keystone ledger (the verifier's).
    KeystoneLedger public immutable ledger;
    /// @notice The light client deciding which publications are canonical (the verifier's).
    BitcoinLightClient public immutable lightClient;
    /// @notice The reward token, minted by this contract.
    PopRewardToken public immutable token;
    /// @notice EVM blocks after a keystone before it can be paid (Hemi: 200).
    uint32 public immutable payoutDelay;

    /// @notice Token units split among a keystone's publications.
    uint256 public poolPerKeystone;

    mapping(uint32 keystoneNumber => bool) private _paid;

    /// @notice A keystone's pool was paid.
    /// @param keystoneNumber The keystone's EVM block number.
    /// @param keystoneId Its id (internal order).
    /// @param pool The pool split.
    /// @param totalScore Sum of the scores.
    /// @param publications Canonical publications counted.
    event KeystoneRewarded(
        uint32 indexed keystoneNumber,
        bytes32 indexed keystoneId,
        uint256 pool,
        uint256 totalScore,
        uint256 publications
    );
    /// @notice One publication was paid.
    /// @param keystoneNumber The keystone's EVM block number.
    /// @param miner The PoP miner paid.
    /// @param txid The publication's transaction (internal order).
    /// @param delay Bitcoin blocks after the keystone's first canonical publication.
    /// @param score Its V2 score.
    /// @param amount Tokens minted.
    event PopRewardPaid(
        uint32 indexed keystoneNumber,
        address indexed miner,
        bytes32 txid,
        uint32 delay,
        uint256 score,
        uint256 amount
    );
    /// @notice The pool per keystone changed.
    event PoolPerKeystoneSet(uint256 pool);

    /// @notice The keystone is not recorded.
    error KeystoneNotRecorded(uint32 keystoneNumber);
    /// @notice The keystone is younger than the payout delay.
    error PayoutTooEarly(uint32 keystoneNumber, uint256 payableAtBlock, uint256 currentBlock);
    /// @notice The keystone was already paid.
    error AlreadyPaid(uint32 keystoneNumber);
    /// @notice The keystone has no canonical publication to pay (yet).
    error NoCanonicalPublications(uint32 keystoneNumber);

    /// @notice Deploys the rewards contract and its token.
    /// @param verifier_ The PoP verifier.
    /// @param payoutDelay_ EVM blocks after a keystone before it can be paid (Hemi: 200).
    /// @param pool Token units per keystone.
    /// @param admin Holder of DEFAULT_ADMIN_ROLE (sets the pool).
    constructor(PopVerifier verifier_, uint32 payoutDelay_, uint256 pool, address admin) {
        verifier = verifier_;
        ledger = verifier_.ledger();
        lightClient = verifier_.lightClient();
        payoutDelay = payoutDelay_;
        token = new PopRewardToken();
        poolPerKeystone = pool;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        emit PoolPerKeystoneSet(pool);
    }

    /// @notice Sets the pool of every keystone not yet paid. Admin only.
    /// @param pool Token units per keystone.
    function setPoolPerKeystone(uint256 pool) external onlyRole(DEFAULT_ADMIN_ROLE) {
        poolPerKeystone = pool;
        emit PoolPerKeystoneSet(pool);
    }

    /// @notice Pays a keystone's canonical publications by their V2 scores. Anyone may call, once per keystone.
    /// @param keystoneNumber The keystone's EVM block number.
    /// @return totalScore Sum of the scores paid.
    function payout(uint32 keystoneNumber) external returns (uint256 totalScore) {
        bytes32 id = ledger.keystoneAt(keystoneNumber).id;
        if (id == bytes32(0)) revert KeystoneNotRecorded(keystoneNumber);
        uint256 payableAt = uint256(keystoneNumber) + payoutDelay;
        if (block.number < payableAt) revert PayoutTooEarly(keystoneNumber, payableAt, block.number);
        if (_paid[keystoneNumber]) revert AlreadyPaid(keystoneNumber);

        PopVerifier.Publication[] memory pubs = verifier.publications(keystoneNumber);
        uint256 n = pubs.length;
        bool[] memory canonical = new bool[](n);
        uint32 first = type(uint32).max;
        uint256 count;
        for (uint256 i; i < n; ++i) {
            if (lightClient.blockHashAt(pubs[i].btcHeight) != pubs[i].btcBlockHash) continue;
            canonical[i] = true;
            ++count;
            if (pubs[i].btcHeight < first) first = pubs[i].btcHeight;
        }
        if (count == 0) revert NoCanonicalPublications(keystoneNumber);

        uint256[] memory scores = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            if (!canonical[i]) continue;
            scores[i] = scoreOf(pubs[i].btcHeight - first);
            totalScore += scores[i];
        }
        _paid[keystoneNumber] = true;
        uint256 pool = poolPerKeystone;
        for (uint256 i; i < n; ++i) {
            if (scores[i] == 0) continue;
            uint256 amount = (pool * scores[i]) / totalScore;
            if (amount != 0) token.mint(pubs[i].miner, amount);
            emit PopRewardPaid(
                keystoneNumber,
                pubs[i].miner,
                pubs[i].txid,
                pubs[i].btcHeight - first,
                scores[i],
                amount
            );
        }
        emit KeystoneRewarded(keystoneNumber, id, pool, totalScore, count);
    }

    /// @notice Hemi's V2 score of a publication `delay` Bitcoin blocks after the keystone's first publication.
    /// @param delay Bitcoin blocks after the first publication (0 for the first).
    function scoreOf(uint32 delay) public pure returns (uint256) {
        if (delay <= 1) return 100000;
        if (delay == 2) return 25000;
        if (delay == 3) return 11111;
        if (delay == 4) return 6250;
        if (delay == 5) return 4000;
        if (delay == 6) return 2778;
        if (delay == 7) return 2041;
        if (delay == 8) return 1563;
        return 0;
    }

    /// @notice Whether a keystone was paid.
    /// @param keystoneNumber The keystone's EVM block number.
    function isPaid(uint32 keystoneNumber) external view returns (bool) {
        return _paid[keystoneNumber];
    }
}
