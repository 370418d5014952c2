// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinTx} from "../bitcoin/BitcoinTx.sol";

/// @title BitcoinTxHarness
/// @notice Test-only contract exposing the BitcoinTx library, plus batch and gas helpers for tests.
contract BitcoinTxHarness {
    /// @notice A measured call returned something impossible (keeps the optimizer from dropping the call).
    error InconsistentResult();

    /// @notice Which library function a probe calls.
    enum Fn {
        Validate,
        Parse,
        InputCount,
        OutputCount,
        Input,
        Output
    }

    /// @notice Outcome of one probed call.
    struct ProbeResult {
        bool ok;
        bytes data; // return data on success, revert data on failure
    }

    /// @notice BitcoinTx.parse.
    /// @param rawTx Non-witness serialization.
    /// @return The parsed transaction.
    function parse(bytes calldata rawTx) external pure returns (BitcoinTx.Transaction memory) {
        return BitcoinTx.parse(rawTx);
    }

    /// @notice BitcoinTx.validate.
    /// @param rawTx Non-witness serialization.
    /// @return nIn Number of inputs.
    /// @return nOut Number of outputs.
    function validate(bytes calldata rawTx) external pure returns (uint256 nIn, uint256 nOut) {
        return BitcoinTx.validate(rawTx);
    }

    /// @notice BitcoinTx.txid.
    /// @param rawTx Non-witness serialization.
    /// @return The txid, internal byte order.
    function txid(bytes calldata rawTx) external view returns (bytes32) {
        return BitcoinTx.txid(rawTx);
    }

    /// @notice BitcoinTx.inputCount.
    /// @param rawTx Non-witness serialization.
    /// @return Number of inputs.
    function inputCount(bytes calldata rawTx) external pure returns (uint256) {
        return BitcoinTx.inputCount(rawTx);
    }

    /// @notice BitcoinTx.outputCount.
    /// @param rawTx Non-witness serialization.
    /// @return Number of outputs.
    function outputCount(bytes calldata rawTx) external pure returns (uint256) {
        return BitcoinTx.outputCount(rawTx);
    }

    /// @notice BitcoinTx.output.
    /// @param rawTx Non-witness serialization.
    /// @param index Output position.
    /// @return value Satoshis.
    /// @return script scriptPubKey.
    function output(bytes calldata rawTx, uint256 index) external pure returns (uint64 value, bytes memory script) {
        return BitcoinTx.output(rawTx, index);
    }

    /// @notice BitcoinTx.input.
    /// @param rawTx Non-witness serialization.
    /// @param index Input position.
    /// @return The input.
    function input(bytes calldata rawTx, uint256 index) external pure returns (BitcoinTx.TxIn memory) {
        return BitcoinTx.input(rawTx, index);
    }

    /// @notice Parses and hashes many transactions in one call (property tests batch their cases).
    /// @param rawTxs Non-witness serializations.
    /// @return txs The parsed transactions.
    /// @return txids Their txids, internal byte order.
    function parseMany(
        bytes[] calldata rawTxs
    ) external view returns (BitcoinTx.Transaction[] memory txs, bytes32[] memory txids) {
        txs = new BitcoinTx.Transaction[](rawTxs.length);
        txids = new bytes32[](rawTxs.length);
        for (uint256 i; i < rawTxs.length; ++i) {
            txs[i] = BitcoinTx.parse(rawTxs[i]);
            txids[i] = BitcoinTx.txid(rawTxs[i]);
        }
    }

    /// @notice Calls `fn` on every input through an external self-call and reports success or the revert data.
    /// @dev A panic or an out-of-bounds failure shows up as its revert data, so tests can assert it never happens.
    /// @param rawTxs Inputs to probe.
    /// @param fn Function to call.
    /// @param index Index argument for Input / Output.
    /// @return results One outcome per input.
    function probe(bytes[] calldata rawTxs, Fn fn, uint256 index) external view returns (ProbeResult[] memory results) {
        results = new ProbeResult[](rawTxs.length);
        for (uint256 i; i < rawTxs.length; ++i) {
            bytes memory callData;
            if (fn == Fn.Validate) callData = abi.encodeCall(this.validate, (rawTxs[i]));
            else if (fn == Fn.Parse) callData = abi.encodeCall(this.parse, (rawTxs[i]));
            else if (fn == Fn.InputCount) callData = abi.encodeCall(this.inputCount, (rawTxs[i]));
            else if (fn == Fn.OutputCount) callData = abi.encodeCall(this.outputCount, (rawTxs[i]));
            else if (fn == Fn.Input) callData = abi.encodeCall(this.input, (rawTxs[i], index));
            else callData = abi.encodeCall(this.output, (rawTxs[i], index));
            (bool ok, bytes memory data) = address(this).staticcall(callData);
            results[i] = ProbeResult(ok, data);
        }
    }

    /// @notice Gas used inside the library by validate, parse and txid for one transaction (no call overhead).
    /// @param rawTx Non-witness serialization.
    /// @return validateGas Gas of BitcoinTx.validate.
    /// @return parseGas Gas of BitcoinTx.parse.
    /// @return txidGas Gas of BitcoinTx.txid.
    function measure(
        bytes calldata rawTx
    ) external view returns (uint256 validateGas, uint256 parseGas, uint256 txidGas) {
        bytes memory raw = rawTx;
        uint256 g = gasleft();
        (uint256 nIn, ) = BitcoinTx.validate(raw);
        validateGas = g - gasleft();
        g = gasleft();
        BitcoinTx.Transaction memory t = BitcoinTx.parse(raw);
        parseGas = g - gasleft();
        g = gasleft();
        bytes32 id = BitcoinTx.txid(raw);
        txidGas = g - gasleft();
        // Use every result so that the optimizer keeps the measured calls.
        if (nIn != t.inputs.length || id == bytes32(0)) revert InconsistentResult();
    }
}
