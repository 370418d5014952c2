// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {BitcoinLightClient} from "../../bitcoin/BitcoinLightClient.sol";
import {BitcoinTxOutputs} from "../BitcoinTxOutputs.sol";
import {HemiBTC} from "../HemiBTC.sol";
import {ITunnelErrors} from "../ITunnelErrors.sol";
import {ITunnelEvents} from "../ITunnelEvents.sol";
import {TunnelState, TunnelConfig, Vault, VaultStatus, Withdrawal, WithdrawalStatus} from "../TunnelState.sol";
import {TunnelCollateral} from "./TunnelCollateral.sol";
import {TunnelRules} from "./TunnelRules.sol";

/// @title TunnelWithdrawals
/// @notice Withdrawals and their challenges: burn hemiBTC and queue a payout, prove the payout, or, past the
///         deadline, pay the requester from the vault's collateral and slash the vault. An external library:
///         BitcoinTunnel delegates to it with its state.
/// @dev A withdrawal keeps the terms of its request (fee, confirmations, deadline). A vault takes a withdrawal only
///      while its collateral, at the governance price, covers all its pending withdrawals with this one, so a
///      challenge always makes the requester whole. Vault selection prefers vaults that are Closing or
///      under-collateralised, so redemptions drain them first.
library TunnelWithdrawals {
    using SafeERC20 for IERC20;
    using TunnelCollateral for TunnelConfig;
    using TunnelRules for TunnelState;

    /// @notice Smallest payout a withdrawal may ask for (Bitcoin's common dust limit).
    uint64 internal constant DUST_LIMIT = 546;
    uint256 private constant NO_INDEX = type(uint256).max;

    /// @dev What a payout transaction must show.
    struct PayoutTerms {
        uint64 id;
        uint64 paid;
        bytes16 userScriptHash;
        bytes32 custodyScriptHash;
    }

    /// @notice Burns and queues a withdrawal from the vault `selectVault` picks (see BitcoinTunnel).
    function requestWithdrawal(
        TunnelState storage s,
        HemiBTC token,
        bytes calldata btcScript,
        uint64 sats,
        uint64 maxFee
    ) external returns (uint64 id) {
        (bool found, uint32 vaultId) = selectVault(s, sats);
        if (!found) revert ITunnelErrors.NoVaultCanServe(sats);
        id = _request(s, token, vaultId, btcScript, sats, maxFee);
    }

    /// @notice Burns and queues a withdrawal from a chosen vault (see BitcoinTunnel).
    function requestWithdrawalFrom(
        TunnelState storage s,
        HemiBTC token,
        uint32 vaultId,
        bytes calldata btcScript,
        uint64 sats,
        uint64 maxFee
    ) external returns (uint64 id) {
        Vault storage v = s.existing(vaultId);
        VaultStatus st = v.status;
        if (st != VaultStatus.Live && st != VaultStatus.Closing) revert ITunnelErrors.BadVaultStatus(vaultId, st);
        uint64 available;
        unchecked {
            available = v.custody - v.pending; // pending <= custody always holds
        }
        if (available < sats) revert ITunnelErrors.InsufficientCustody(vaultId, available, sats);
        uint256 worth = s.config.worth(v.collateral);
        uint256 needed = uint256(v.pending) + sats;
        if (worth < needed) revert ITunnelErrors.InsufficientCollateral(vaultId, worth, needed);
        id = _request(s, token, vaultId, btcScript, sats, maxFee);
    }

    /// @notice Proves a withdrawal's payout (see BitcoinTunnel.finalizeWithdrawal).
    function finalizeWithdrawal(
        TunnelState storage s,
        BitcoinLightClient lightClient,
        uint64 id,
        BitcoinLightClient.TxProof calldata proof
    ) external {
        Withdrawal storage w = s.withdrawals[id];
        if (w.status != WithdrawalStatus.Pending) revert ITunnelErrors.WithdrawalNotPending(id, w.status);
        uint32 vaultId = w.vaultId;
        Vault storage v = s.vaults[vaultId];
        uint64 sats = w.sats;
        uint64 fee = w.fee;
        uint64 paid;
        unchecked {
            paid = sats - fee; // fee <= sats, checked at request
        }
        _checkPayout(
            proof.rawTx,
            PayoutTerms({id: id, paid: paid, userScriptHash: w.btcScriptHash, custodyScriptHash: v.custodyScriptHash})
        );
        bytes32 txid = lightClient.verifyTx(proof, w.confirmations);
        w.status = WithdrawalStatus.Finalized;
        unchecked {
            // pending <= custody and this withdrawal's sats are part of pending; paid <= sats.
            v.custody -= paid;
            v.pending -= sats;
            v.accruedFees += fee;
        }
        emit ITunnelEvents.WithdrawalFinalized(id, vaultId, txid, paid);
    }

    /// @notice Pays an unproven withdrawal past its deadline in collateral and slashes the vault (see BitcoinTunnel).
    function challengeWithdrawal(TunnelState storage s, IERC20 collateralToken, uint64 id) external {
        Withdrawal storage w = s.withdrawals[id];
        if (w.status != WithdrawalStatus.Pending) revert ITunnelErrors.WithdrawalNotPending(id, w.status);
        if (block.timestamp <= w.deadline) revert ITunnelErrors.DeadlineNotPassed(id, w.deadline, block.timestamp);
        uint32 vaultId = w.vaultId;
        Vault storage v = s.vaults[vaultId];
        uint64 sats = w.sats;
        w.status = WithdrawalStatus.Challenged;
        unchecked {
            // This withdrawal's sats are part of pending, which is part of custody. The requester's claim is settled
            // in collateral, so it leaves both (the BTC stays with the failed operator, written off).
            v.pending -= sats;
            v.custody -= sats;
        }
        if (v.status != VaultStatus.Slashed) {
            v.status = VaultStatus.Slashed;
            emit ITunnelEvents.VaultStatusChanged(vaultId, VaultStatus.Slashed);
        }
        uint256 units = s.config.unitsFor(sats, 0);
        uint256 held = v.collateral;
        if (units > held) units = held;
        v.collateral = held - units;
        address requester = w.requester;
        if (units != 0) collateralToken.safeTransfer(requester, units);
        emit ITunnelEvents.WithdrawalChallenged(id, vaultId, requester, sats, units);
    }

    /// @notice The vault `requestWithdrawal` would use for `sats`: among Live and Closing vaults with custody -
    ///         pending >= sats and collateral worth at least pending + sats, the lowest id that is Closing or
    ///         under-collateralised, else the lowest id.
    function selectVault(TunnelState storage s, uint64 sats) public view returns (bool found, uint32 vaultId) {
        TunnelConfig storage c = s.config;
        uint32 count = s.vaultCount;
        for (uint32 id = 1; id <= count; ++id) {
            Vault storage v = s.vaults[id];
            VaultStatus st = v.status;
            if (st != VaultStatus.Live && st != VaultStatus.Closing) continue;
            if (!_canServe(c, v, sats)) continue;
            if (st == VaultStatus.Closing || !c.isBacked(v)) return (true, id);
            if (!found) (found, vaultId) = (true, id);
        }
    }

    /// @dev Whether a vault has the custody and the collateral for another `sats` of withdrawals.
    function _canServe(TunnelConfig storage c, Vault storage v, uint64 sats) private view returns (bool) {
        uint64 pending = v.pending;
        unchecked {
            if (v.custody - pending < sats) return false;
        }
        return c.worth(v.collateral) >= uint256(pending) + sats;
    }

    function _request(
        TunnelState storage s,
        HemiBTC token,
        uint32 vaultId,
        bytes calldata btcScript,
        uint64 sats,
        uint64 maxFee
    ) private returns (uint64 id) {
        bytes32 scriptHash = keccak256(btcScript);
        if (!TunnelRules.isPayableScript(btcScript) || s.vaultOfScript[scriptHash] != 0) {
            revert ITunnelErrors.UnsupportedWithdrawalScript(btcScript);
        }
        Vault storage v = s.vaults[vaultId];
        uint64 fee = TunnelRules.withdrawalFee(v, sats);
        if (fee > maxFee) revert ITunnelErrors.FeeAboveMax(vaultId, fee, maxFee);
        if (sats < fee || sats - fee < DUST_LIMIT) revert ITunnelErrors.WithdrawalTooSmall(sats, fee, DUST_LIMIT);
        token.burn(msg.sender, sats);
        v.pending += sats;
        id = ++s.withdrawalCount;
        // At least 20 minutes per required confirmation, so a slow run of Bitcoin blocks cannot make a prompt payout
        // unprovable before the deadline (at most 1000 * 20 minutes, under 14 days).
        uint16 conf = v.confirmations;
        uint256 window = uint256(conf) * 20 minutes;
        uint256 setWindow = s.config.withdrawalWindow;
        if (setWindow > window) window = setWindow;
        uint40 deadline = uint40(block.timestamp + window);
        s.withdrawals[id] = Withdrawal({
            requester: msg.sender,
            vaultId: vaultId,
            status: WithdrawalStatus.Pending,
            deadline: deadline,
            confirmations: conf,
            sats: sats,
            fee: fee,
            btcScriptHash: bytes16(scriptHash)
        });
        emit ITunnelEvents.WithdrawalRequested(id, vaultId, msg.sender, btcScript, sats, fee, deadline);
    }

    /// @dev Checks a payout transaction's outputs against a withdrawal: exactly one output paying the user's script
    ///      exactly `paid`, exactly one `OP_RETURN PUSH8 <id>`, and only change to the custody script besides.
    function _checkPayout(bytes calldata rawTx, PayoutTerms memory t) private pure {
        uint64 id = t.id;
        (uint256 count, uint256 off) = BitcoinTxOutputs.outputsStart(rawTx);
        uint256 opIndex = NO_INDEX;
        uint256 payIndex = NO_INDEX;
        for (uint256 i; i < count; ++i) {
            (uint64 v, uint256 so, uint256 sl, uint256 next) = BitcoinTxOutputs.readOutput(rawTx, off);
            off = next;
            if (sl != 0 && (BitcoinTxOutputs.wordAt(rawTx, so) >> 248) == 0x6a) {
                if (opIndex != NO_INDEX) revert ITunnelErrors.MultipleOpReturns(opIndex, i);
                opIndex = i;
                uint64 got = _payoutId(rawTx, so, sl, i);
                if (got != id) revert ITunnelErrors.PayoutIdMismatch(id, got);
                continue;
            }
            bytes32 h = BitcoinTxOutputs.hashSlice(rawTx, so, sl);
            if (bytes16(h) == t.userScriptHash) {
                if (payIndex != NO_INDEX) revert ITunnelErrors.PayoutOutputRepeated(id, i);
                if (v != t.paid) revert ITunnelErrors.PayoutAmountMismatch(id, t.paid, v);
                payIndex = i;
            } else if (h != t.custodyScriptHash) {
                revert ITunnelErrors.UnexpectedPayoutOutput(id, i);
            }
        }
        if (opIndex == NO_INDEX) revert ITunnelErrors.MissingOpReturn();
        if (payIndex == NO_INDEX) revert ITunnelErrors.PayoutNotFound(id);
    }

    /// @dev The id of a payout OP_RETURN script, which must be exactly 0x6a08 || id (8 bytes big-endian).
    function _payoutId(bytes calldata rawTx, uint256 so, uint256 sl, uint256 index) private pure returns (uint64) {
        uint256 word = BitcoinTxOutputs.wordAt(rawTx, so);
        if (sl != 10 || ((word >> 240) & 0xff) != 0x08) revert ITunnelErrors.MalformedOpReturn(index);
        return uint64(word >> 176);
    }
}
