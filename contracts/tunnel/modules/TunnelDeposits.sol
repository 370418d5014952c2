// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinLightClient} from "../../bitcoin/BitcoinLightClient.sol";
import {BitcoinTxOutputs} from "../BitcoinTxOutputs.sol";
import {HemiBTC} from "../HemiBTC.sol";
import {ITunnelErrors} from "../ITunnelErrors.sol";
import {ITunnelEvents} from "../ITunnelEvents.sol";
import {TunnelState, TunnelConfig, DepositRecord, OrderCursor, Vault, VaultStatus} from "../TunnelState.sol";
import {TunnelCollateral} from "./TunnelCollateral.sol";
import {TunnelRules} from "./TunnelRules.sol";

/// @title TunnelDeposits
/// @notice Minting Bitcoin deposits on SPV proofs, exactly once per (txid, vout), in a recorded total order. An
///         external library: BitcoinTunnel delegates to it with its state.
/// @dev A deposit is a Bitcoin transaction with an output paying a custody script and exactly one OP_RETURN output,
///      exactly `OP_RETURN PUSH20 <EVM recipient>` (0x6a14 || 20 bytes). The recipient gets value - fee, the fee
///      accrues to the vault. A deposit is always minted when its vault takes it (the BTC is already locked), even
///      when it leaves the vault's collateral short; the vault then stops taking deposits sent later: it mints only
///      blocks up to the best height plus the grace period, until its collateral backs its custody again.
library TunnelDeposits {
    using TunnelCollateral for TunnelConfig;

    uint256 private constant NO_INDEX = type(uint256).max;

    /// @dev A checked deposit on its way to being recorded.
    struct DepositItem {
        bytes32 txid;
        uint32 vout;
        uint32 height;
        uint32 txIndex;
        uint32 vaultId;
        uint64 value;
        address recipient;
    }

    /// @notice Mints one deposit (see BitcoinTunnel.confirmDeposit).
    function confirmDeposit(
        TunnelState storage s,
        BitcoinLightClient lightClient,
        HemiBTC token,
        BitcoinLightClient.TxProof calldata proof,
        uint32 outputIndex
    ) external returns (uint64 sequence) {
        DepositItem memory d;
        uint16 conf = _prepare(s, d, proof.rawTx, outputIndex, proof.blockHeight, 0);
        d.txid = lightClient.verifyTx(proof, conf);
        // verifyTx accepted the index, so it is below 2**32 (merkle depth <= 32).
        d.txIndex = uint32(proof.txIndex);
        bytes32 key = TunnelRules.outpointKey(d.txid, outputIndex);
        uint64 seen = s.deposits[key].sequence;
        if (seen != 0) revert ITunnelErrors.DepositAlreadyConfirmed(d.txid, outputIndex, seen);
        OrderCursor memory cur = s.cursor;
        sequence = _record(s, token, key, d, cur);
        s.cursor = cur;
        _capIfUnbacked(s, lightClient, d.vaultId);
    }

    /// @notice Mints several deposits of one block (see BitcoinTunnel.confirmDepositsInBlock).
    function confirmDepositsInBlock(
        TunnelState storage s,
        BitcoinLightClient lightClient,
        HemiBTC token,
        bytes calldata blockHeader,
        uint32 blockHeight,
        BitcoinLightClient.TxInBlock[] calldata txs,
        uint32[] calldata outputIndexes
    ) external returns (uint256 confirmed) {
        if (txs.length == 0 || txs.length != outputIndexes.length) {
            revert ITunnelErrors.BadBatch(txs.length, outputIndexes.length);
        }
        (DepositItem[] memory items, uint16 conf) = _prepareBatch(s, txs, outputIndexes, blockHeight);
        bytes32[] memory txids = lightClient.verifyTxsInBlock(blockHeader, blockHeight, conf, txs);
        confirmed = _recordBatch(s, lightClient, token, items, txids);
    }

    /// @dev Records the batch's items not minted yet, in order; caps each vault left short.
    function _recordBatch(
        TunnelState storage s,
        BitcoinLightClient lightClient,
        HemiBTC token,
        DepositItem[] memory items,
        bytes32[] memory txids
    ) private returns (uint256 confirmed) {
        OrderCursor memory cur = s.cursor;
        for (uint256 i; i < items.length; ++i) {
            DepositItem memory d = items[i];
            d.txid = txids[i];
            bytes32 key = TunnelRules.outpointKey(d.txid, d.vout);
            if (s.deposits[key].sequence != 0) continue;
            _record(s, token, key, d, cur);
            ++confirmed;
            _capIfUnbacked(s, lightClient, d.vaultId);
        }
        s.cursor = cur;
    }

    /// @dev A Live vault without a deposit window whose collateral no longer backs its custody gets one: deposits
    ///      in blocks up to the best height plus the grace period (those already sent) are still minted.
    function _capIfUnbacked(TunnelState storage s, BitcoinLightClient lightClient, uint32 vaultId) private {
        Vault storage v = s.vaults[vaultId];
        if (v.status != VaultStatus.Live || v.depositsUntilHeight != 0 || s.config.isBacked(v)) return;
        (, uint32 best) = lightClient.bestBlock();
        uint32 until = best + s.config.depositGraceBlocks;
        v.depositsUntilHeight = until;
        emit ITunnelEvents.VaultDepositWindowSet(vaultId, until);
    }

    /// @dev The vault's required confirmations, after checking it takes a deposit of `value` from `blockHeight`.
    function _checkDepositTerms(
        TunnelState storage s,
        uint32 vaultId,
        bytes32 scriptHash,
        uint64 value,
        uint32 blockHeight
    ) private view returns (uint16) {
        if (vaultId == 0) revert ITunnelErrors.NotACustodyScript(scriptHash);
        Vault storage v = s.vaults[vaultId];
        if (!TunnelRules.takesDeposit(v, blockHeight)) {
            revert ITunnelErrors.VaultNotAcceptingDeposits(vaultId, v.status, blockHeight);
        }
        uint64 min = v.minDeposit;
        if (value < min) revert ITunnelErrors.DepositBelowMinimum(vaultId, value, min);
        return v.confirmations;
    }

    /// @dev Checks the batch's block order and every item against its vault; returns the items and the largest
    ///      confirmation count their vaults require.
    function _prepareBatch(
        TunnelState storage s,
        BitcoinLightClient.TxInBlock[] calldata txs,
        uint32[] calldata outputIndexes,
        uint32 blockHeight
    ) private view returns (DepositItem[] memory items, uint16 conf) {
        uint256 n = txs.length;
        items = new DepositItem[](n);
        uint256 prevPos;
        for (uint256 i; i < n; ++i) {
            uint256 txIndex = txs[i].txIndex;
            if (txIndex > type(uint32).max) revert ITunnelErrors.TxIndexOutOfRange(txIndex);
            uint256 pos = (txIndex << 32) | outputIndexes[i];
            if (i != 0 && pos <= prevPos) revert ITunnelErrors.BatchNotInBlockOrder(i);
            prevPos = pos;
            uint16 c = _prepare(s, items[i], txs[i].rawTx, outputIndexes[i], blockHeight, uint32(txIndex));
            if (c > conf) conf = c;
        }
    }

    /// @dev Fills an item from its transaction and checks it against its vault; returns the vault's confirmations.
    function _prepare(
        TunnelState storage s,
        DepositItem memory d,
        bytes calldata rawTx,
        uint32 vout,
        uint32 height,
        uint32 txIndex
    ) private view returns (uint16) {
        bytes32 scriptHash;
        (d.value, scriptHash, d.recipient) = _scanDeposit(rawTx, vout);
        d.vaultId = s.vaultOfScript[scriptHash];
        d.vout = vout;
        d.height = height;
        d.txIndex = txIndex;
        return _checkDepositTerms(s, d.vaultId, scriptHash, d.value, height);
    }

    /// @dev Records and mints a checked deposit; advances `cur` (the caller stores it).
    function _record(
        TunnelState storage s,
        HemiBTC token,
        bytes32 key,
        DepositItem memory d,
        OrderCursor memory cur
    ) private returns (uint64 sequence) {
        uint32 height = d.height;
        uint32 txIndex = d.txIndex;
        uint32 vout = d.vout;
        bool inOrder =
            cur.count == 0 ||
                height > cur.height ||
                (height == cur.height && (txIndex > cur.txIndex || (txIndex == cur.txIndex && vout > cur.vout)));
        sequence = cur.count + 1;
        cur.count = sequence;
        if (inOrder) {
            // A high-water mark: the furthest position confirmed so far.
            cur.height = height;
            cur.txIndex = txIndex;
            cur.vout = vout;
        }
        s.deposits[key] = DepositRecord({
            sequence: sequence,
            blockHeight: height,
            txIndex: txIndex,
            vaultId: d.vaultId,
            inBitcoinOrder: inOrder
        });
        uint64 value = d.value;
        Vault storage v = s.vaults[d.vaultId];
        uint64 fee = TunnelRules.fee(value, v.depositFeeBps, v.depositFlatFee);
        if (fee > value) fee = value;
        uint64 minted;
        v.custody += value;
        unchecked {
            // fee <= value, and fees accrue out of custody, which the line above bounds.
            v.accruedFees += fee;
            minted = value - fee;
        }
        if (minted != 0) token.mint(d.recipient, minted);
        emit ITunnelEvents.DepositConfirmed(d.txid, vout, d.recipient, value, minted, sequence);
    }

    /// @dev One walk over the outputs: the value and script hash of output `outputIndex`, and the recipient from
    ///      the transaction's single OP_RETURN output (exactly 0x6a14 || 20 bytes: length 22 and push byte 0x14).
    function _scanDeposit(
        bytes calldata rawTx,
        uint32 outputIndex
    ) private pure returns (uint64 value, bytes32 scriptHash, address recipient) {
        (uint256 count, uint256 off) = BitcoinTxOutputs.outputsStart(rawTx);
        if (outputIndex >= count) revert ITunnelErrors.OutputIndexOutOfRange(outputIndex, count);
        uint256 opIndex = NO_INDEX;
        for (uint256 i; i < count; ++i) {
            (uint64 v, uint256 so, uint256 sl, uint256 next) = BitcoinTxOutputs.readOutput(rawTx, off);
            if (i == outputIndex) {
                value = v;
                scriptHash = BitcoinTxOutputs.hashSlice(rawTx, so, sl);
            }
            if (sl != 0) {
                uint256 word = BitcoinTxOutputs.wordAt(rawTx, so);
                if ((word >> 248) == 0x6a) {
                    if (opIndex != NO_INDEX) revert ITunnelErrors.MultipleOpReturns(opIndex, i);
                    opIndex = i;
                    if (sl != 22 || ((word >> 240) & 0xff) != 0x14) revert ITunnelErrors.MalformedOpReturn(i);
                    recipient = address(uint160(word >> 80));
                }
            }
            off = next;
        }
        if (opIndex == NO_INDEX) revert ITunnelErrors.MissingOpReturn();
        if (recipient == address(0)) revert ITunnelErrors.ZeroRecipient();
    }
}
