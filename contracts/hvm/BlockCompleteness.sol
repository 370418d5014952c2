// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHash} from "../bitcoin/BitcoinHash.sol";
import {BitcoinSegwitTx} from "../bitcoin/BitcoinSegwitTx.sol";
import {BitcoinTx} from "../bitcoin/BitcoinTx.sol";

/// @title BlockCompleteness
/// @notice Proof that a list of transactions is exactly a block's: their txids hash to the header's merkle root
///         (with Bitcoin Core's mutation check), the first is a coinbase, and the witness data is the one the
///         coinbase's BIP-141 commitment commits to.
library BlockCompleteness {
    /// @notice The txids hash to `computed`, not to the header's `expected` merkle root.
    error BlockIncomplete(bytes32 computed, bytes32 expected);
    /// @notice Two equal sibling hashes at `level` (CVE-2012-2459: a duplicated transaction list).
    error BlockMutated(uint256 level);
    /// @notice The first transaction is not a coinbase (one input spending the null outpoint).
    error FirstTxNotCoinbase();
    /// @notice A transaction carries witness data but the coinbase has no witness commitment.
    error UnexpectedWitness(uint256 txIndex);
    /// @notice The coinbase witness is not exactly one 32-byte reserved value.
    error BadWitnessReservedValue();
    /// @notice The witness merkle root does not match the coinbase commitment.
    error WitnessCommitmentMismatch(bytes32 computed, bytes32 committed);

    /// @notice Checks the block; reverts with one of the errors above.
    /// @param merkleRoot The header's merkle root (internal order).
    /// @param raws Every transaction, full serialization, in block order.
    /// @param splits Their splits (BitcoinSegwitTx.split).
    /// @param txids Their txids.
    function check(
        bytes32 merkleRoot,
        bytes[] memory raws,
        BitcoinSegwitTx.Split[] memory splits,
        bytes32[] memory txids
    ) internal view {
        bytes32 root = merkleRootOf(txids);
        if (root != merkleRoot) revert BlockIncomplete(root, merkleRoot);
        BitcoinTx.Transaction memory coinbase = BitcoinTx.parse(splits[0].nonWitness);
        if (
            coinbase.inputs.length != 1 ||
            coinbase.inputs[0].prevTxid != bytes32(0) ||
            coinbase.inputs[0].prevVout != type(uint32).max
        ) revert FirstTxNotCoinbase();
        (bool has, bytes32 commitment) = _commitment(coinbase);
        uint256 n = raws.length;
        if (!has) {
            for (uint256 i; i < n; ++i) if (splits[i].hasWitness) revert UnexpectedWitness(i);
            return;
        }
        (bool found, bytes memory reserved) = BitcoinSegwitTx.witnessItem(raws[0], splits[0], 0, 0);
        if (!found || splits[0].witnessCounts[0] != 1 || reserved.length != 32) revert BadWitnessReservedValue();
        bytes32[] memory wtxids = new bytes32[](n);
        for (uint256 i = 1; i < n; ++i) wtxids[i] = splits[i].hasWitness ? BitcoinHash.hash256(raws[i]) : txids[i];
        bytes32 wroot = merkleRootOf(wtxids);
        bytes32 computed = BitcoinHash.hash256(abi.encodePacked(wroot, reserved));
        if (computed != commitment) revert WitnessCommitmentMismatch(computed, commitment);
    }

    /// @notice Bitcoin's merkle root of `leaves` (an odd level pairs its last node with itself); reverts
    ///         BlockMutated when two real siblings are equal.
    function merkleRootOf(bytes32[] memory leaves) internal view returns (bytes32) {
        uint256 n = leaves.length;
        bytes32[] memory level = new bytes32[](n);
        for (uint256 i; i < n; ++i) level[i] = leaves[i];
        uint256 depth;
        while (n > 1) {
            uint256 m = (n + 1) / 2;
            for (uint256 i; i < m; ++i) {
                bytes32 left = level[2 * i];
                bytes32 right = 2 * i + 1 < n ? level[2 * i + 1] : left;
                if (2 * i + 1 < n && left == right) revert BlockMutated(depth);
                level[i] = BitcoinHash.hashPair(left, right);
            }
            n = m;
            ++depth;
        }
        return level[0];
    }

    /// @dev The BIP-141 commitment: the last coinbase output whose script is at least 38 bytes and starts with
    ///      OP_RETURN PUSH36 aa21a9ed; the 32 bytes after that prefix.
    function _commitment(BitcoinTx.Transaction memory coinbase) private pure returns (bool, bytes32 c) {
        for (uint256 i = coinbase.outputs.length; i > 0; --i) {
            bytes memory s = coinbase.outputs[i - 1].script;
            if (s.length >= 38 && bytes6(_word(s, 0)) == bytes6(0x6a24aa21a9ed)) {
                c = _word(s, 6);
                return (true, c);
            }
        }
        return (false, c);
    }

    function _word(bytes memory b, uint256 off) private pure returns (bytes32 w) {
        assembly ("memory-safe") {
            w := mload(add(add(b, 0x20), off))
        }
    }
}
