// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinTxOutputs} from "../tunnel/BitcoinTxOutputs.sol";

/// @title BitcoinTxOutputsHarness
/// @notice Exposes BitcoinTxOutputs for tests: every output of a raw transaction as (value, script).
contract BitcoinTxOutputsHarness {
    /// @notice Walks all outputs of `rawTx`.
    /// @return values Each output's value.
    /// @return scripts Each output's script.
    /// @return end Offset just after the last output (where the locktime starts).
    function outputs(
        bytes calldata rawTx
    ) external pure returns (uint64[] memory values, bytes[] memory scripts, uint256 end) {
        (uint256 count, uint256 off) = BitcoinTxOutputs.outputsStart(rawTx);
        values = new uint64[](count);
        scripts = new bytes[](count);
        for (uint256 i; i < count; ++i) {
            (uint64 v, uint256 so, uint256 sl, uint256 next) = BitcoinTxOutputs.readOutput(rawTx, off);
            values[i] = v;
            scripts[i] = rawTx[so:so + sl];
            off = next;
        }
        end = off;
    }
}
