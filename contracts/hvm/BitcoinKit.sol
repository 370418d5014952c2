// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHeader, Input, Output, Transaction, UTXO} from "./BitcoinKitTypes.sol";
import {BitcoinKitDecoder} from "./BitcoinKitDecoder.sol";
import {TxByTxidLayout} from "./TxByTxidLayout.sol";

/// @title BitcoinKit
/// @notice Hemi's BitcoinKit (hBK) over the hVM precompiles: every IBitcoinKit function with Hemi's names, argument,
///         return and struct types, answering what Hemi's BitcoinKit answers for the same precompile bytes.
/// @dev The precompile addresses are fixed at deployment (0x40..0x49 where the emulators are installed there, the
///      emulator contracts elsewhere), and so is the 0x42 layout it decodes. Differences from Hemi's BitcoinKit.sol:
///      the functions Hemi declares but never implemented (getTransactionInputsByTxId, getTransactionOutputsByTxId)
///      are implemented; getUTXOsForBitcoinAddress answers both selectors (uint32 and uint256 paging); failures
///      revert with custom errors instead of strings or panics.
contract BitcoinKit {
    /// @notice The call to the precompile at `precompile` failed (for 0x46: the address does not decode; for 0x43:
    ///         the transaction is unknown).
    error PrecompileCallFailed(address precompile);
    /// @notice The precompile at `precompile` answered empty where data was needed.
    error EmptyAnswer(address precompile);
    /// @notice Input `index` asked for; the answer holds `count` inputs.
    error InputIndexOutOfRange(uint256 index, uint256 count);
    /// @notice Output `index` asked for; the answer holds `count` outputs.
    error OutputIndexOutOfRange(uint256 index, uint256 count);

    /// @dev Hemi's f1 = inputs only, f3 = 32 in / 32 out, f4 = 64-byte scripts: BitcoinKit's existence query.
    bytes4 private constant EXISTS_FLAGS = 0x04002d0a;

    address private immutable _bal; // 0x40
    address private immutable _utxos; // 0x41
    address private immutable _txById; // 0x42
    address private immutable _confs; // 0x43
    address private immutable _last; // 0x44
    address private immutable _headerN; // 0x45
    address private immutable _addrToScript; // 0x46
    /// @notice The 0x42 layout this deployment decodes.
    TxByTxidLayout public immutable layout;

    /// @param precompiles Where 0x40..0x46 answer, in that order.
    /// @param layout_ The 0x42 layout of the deployment.
    constructor(address[7] memory precompiles, TxByTxidLayout layout_) {
        _bal = precompiles[0];
        _utxos = precompiles[1];
        _txById = precompiles[2];
        _confs = precompiles[3];
        _last = precompiles[4];
        _headerN = precompiles[5];
        _addrToScript = precompiles[6];
        layout = layout_;
    }

    /// @notice Balance in sats of a Bitcoin address (0 when the address does not decode, as on Hemi).
    function getBitcoinAddressBalance(string calldata btcAddress) public view returns (uint256 balance) {
        bytes memory out = _call(_bal, bytes(btcAddress));
        return uint64(bytes8(out));
    }

    /// @notice Whether the address decodes (false under 24 characters; reverts for a longer undecodable one, as on
    ///         Hemi, because 0x46 then fails).
    function isAddressValid(string calldata btcAddress) external view returns (bool) {
        return getScriptForAddress(btcAddress).length != 0;
    }

    /// @notice The scriptPubKey an address pays to.
    function getScriptForAddress(string calldata btcAddress) public view returns (bytes memory script) {
        return _call(_addrToScript, bytes(btcAddress));
    }

    /// @notice Unspent outputs of an address, skipping `pageNumber` outputs (0x41 takes an item offset, not a page),
    ///         at most `pageSize` (0 = 10). Hemi's BitcoinKit.sol selector.
    function getUTXOsForBitcoinAddress(
        string calldata btcAddress,
        uint256 pageNumber,
        uint256 pageSize
    ) public view returns (UTXO[] memory) {
        return _utxoList(btcAddress, pageNumber, pageSize);
    }

    /// @notice The same with IBitcoinKit.sol's uint32 arguments (a different selector).
    function getUTXOsForBitcoinAddress(
        string calldata btcAddress,
        uint32 pageNumber,
        uint32 pageSize
    ) external view returns (UTXO[] memory) {
        return _utxoList(btcAddress, pageNumber, pageSize);
    }

    /// @notice Whether the transaction is found (a coinbase is not: its input has no source, as on Hemi).
    function transactionExists(bytes32 txId) external view returns (bool exists) {
        return _call(_txById, abi.encodePacked(txId, EXISTS_FLAGS)).length > 0;
    }

    /// @notice Number of inputs of a transaction.
    function getTxInputCount(bytes32 txId) external view returns (uint32 txInputCount) {
        return uint32(getTransactionByTxId(txId).totalInputs);
    }

    /// @notice Number of outputs of a transaction.
    function getTxOutputCount(bytes32 txId) external view returns (uint32 txOutputCount) {
        return uint32(getTransactionByTxId(txId).totalOutputs);
    }

    /// @notice One input (among the first 32).
    function getSpecificTxInput(bytes32 txId, uint32 inputIndex) external view returns (Input memory) {
        Input[] memory inputs = getTransactionByTxId(txId).inputs;
        if (inputIndex >= inputs.length) revert InputIndexOutOfRange(inputIndex, inputs.length);
        return inputs[inputIndex];
    }

    /// @notice One output (among the first 32).
    function getSpecificTxOutput(bytes32 txId, uint32 outputIndex) external view returns (Output memory) {
        Output[] memory outputs = getTransactionByTxId(txId).outputs;
        if (outputIndex >= outputs.length) revert OutputIndexOutOfRange(outputIndex, outputs.length);
        return outputs[outputIndex];
    }

    /// @notice The inputs of a transaction (the first 32). Declared by Hemi's IBitcoinKit, never implemented there.
    function getTransactionInputsByTxId(bytes32 txId) external view returns (Input[] memory) {
        return getTransactionByTxId(txId).inputs;
    }

    /// @notice The outputs of a transaction (the first 32). Declared by Hemi's IBitcoinKit, never implemented there.
    function getTransactionOutputsByTxId(bytes32 txId) external view returns (Output[] memory) {
        return getTransactionByTxId(txId).outputs;
    }

    /// @notice A transaction (txId in display order): at most 32 inputs and outputs, scripts cut to 64 bytes.
    function getTransactionByTxId(bytes32 txId) public view returns (Transaction memory) {
        bytes memory out = _call(_txById, abi.encodePacked(txId, BitcoinKitDecoder.txFlags(layout)));
        if (out.length == 0) revert EmptyAnswer(_txById);
        return BitcoinKitDecoder.transaction(out, layout);
    }

    /// @notice Confirmations of a transaction (reverts when it is unknown).
    function getTxConfirmations(bytes32 txId) public view returns (uint32 confirmations) {
        bytes memory out = _call(_confs, abi.encode(txId));
        if (out.length == 0) revert EmptyAnswer(_confs);
        return uint32(bytes4(out));
    }

    /// @notice The hVM's last Bitcoin header (the light client's tip minus the lag).
    function getLastHeader() public view returns (BitcoinHeader memory) {
        bytes memory out = _call(_last, "");
        if (out.length == 0) revert EmptyAnswer(_last);
        return BitcoinKitDecoder.header(out);
    }

    /// @notice The canonical header at `height`.
    function getHeaderN(uint32 height) public view returns (BitcoinHeader memory) {
        bytes memory out = _call(_headerN, abi.encodePacked(height));
        if (out.length == 0) revert EmptyAnswer(_headerN);
        return BitcoinKitDecoder.header(out);
    }

    function _utxoList(
        string calldata btcAddress,
        uint256 pageNumber,
        uint256 pageSize
    ) private view returns (UTXO[] memory utxos) {
        bytes memory out = _call(_utxos, abi.encodePacked(btcAddress, uint24(pageNumber), uint8(pageSize)));
        if (out.length == 0) revert EmptyAnswer(_utxos);
        uint256 n = uint8(out[0]);
        if (out.length < 1 + 42 * n) revert BitcoinKitDecoder.AnswerTruncated(1, 42 * n, out.length);
        utxos = new UTXO[](n);
        for (uint256 i; i < n; ++i) {
            uint256 p = 1 + 42 * i;
            bytes32 txId;
            uint256 rest;
            assembly ("memory-safe") {
                txId := mload(add(add(out, 0x20), p))
                rest := mload(add(add(out, 0x20), add(p, 32)))
            }
            utxos[i] = UTXO(txId, rest >> 240, (rest >> 176) & type(uint64).max, "");
        }
    }

    function _call(address precompile, bytes memory input) private view returns (bytes memory out) {
        bool ok;
        (ok, out) = precompile.staticcall(input);
        if (!ok) revert PrecompileCallFailed(precompile);
    }
}
