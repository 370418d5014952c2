// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinHeader, Input, Output, Transaction} from "./BitcoinKitTypes.sol";
import {TxByTxidLayout} from "./TxByTxidLayout.sol";

/// @title BitcoinKitDecoder
/// @notice Parses precompile answers into BitcoinKit's structs: the 116-byte header record, and the 0x42 answer to
///         BitcoinKit's full-transaction query in either layout.
library BitcoinKitDecoder {
    /// @notice The answer ends before the field at `offset` (`needed` bytes) : not the expected layout.
    error AnswerTruncated(uint256 offset, uint256 needed, uint256 length);

    /// @notice 2^5 = 32 inputs and outputs, scripts cut to 2^(4+2) = 64 bytes: Hemi's BitcoinKit query.
    uint256 internal constant MAX_ITEMS = 32;
    uint256 internal constant MAX_SCRIPT = 64;

    /// @notice The 0x42 flag bytes BitcoinKit sends for a whole transaction in `layout`.
    function txFlags(TxByTxidLayout layout) internal pure returns (bytes4) {
        // f1 0x7F: block hash, version, sizes, locktime, inputs, input source, scriptSig. f3 0x2D: 32 inputs and
        // outputs. f4 0x0A: 64-byte scripts. f2: sequence, outputs, output script, unspendable, spent (the 2024
        // layout's f2 0xFE also sets bits that write nothing: output address, spent-by).
        return layout == TxByTxidLayout.Current ? bytes4(0x7fbc2d0a) : bytes4(0x7ffe2d0a);
    }

    /// @notice Parses the answer to txFlags(layout).
    function transaction(bytes memory out, TxByTxidLayout layout) internal pure returns (Transaction memory t) {
        bool current = layout == TxByTxidLayout.Current;
        uint256 p;
        t.containingBlockHash = bytes32(_uint(out, p, 32));
        t.transactionVersion = _uint(out, p + 32, 4);
        t.size = _uint(out, p + 36, 4);
        t.vSize = _uint(out, p + 40, 4);
        t.lockTime = _uint(out, p + 44, 4);
        p += 48;
        (t.inputs, t.totalInputs, p) = _inputs(out, p, current);
        (t.outputs, t.totalOutputs, p) = _outputs(out, p);
        t.containsAllInputs = t.totalInputs == t.inputs.length;
        t.containsAllOutputs = t.totalOutputs == t.outputs.length;
    }

    /// @notice Parses a 116-byte header record.
    function header(bytes memory out) internal pure returns (BitcoinHeader memory h) {
        h.height = uint32(_uint(out, 0, 4));
        h.blockHash = bytes32(_uint(out, 4, 32));
        h.version = uint32(_uint(out, 36, 4));
        h.previousBlockHash = bytes32(_uint(out, 40, 32));
        h.merkleRoot = bytes32(_uint(out, 72, 32));
        h.timestamp = uint32(_uint(out, 104, 4));
        h.bits = uint32(_uint(out, 108, 4));
        h.nonce = uint32(_uint(out, 112, 4));
    }

    function _inputs(
        bytes memory out,
        uint256 p,
        bool current
    ) private pure returns (Input[] memory inputs, uint256 total, uint256 next) {
        total = _uint(out, p, 2);
        p += 2;
        inputs = new Input[](total < MAX_ITEMS ? total : MAX_ITEMS);
        for (uint256 i; i < inputs.length; ++i) {
            Input memory inp = inputs[i];
            if (current) p += 2; // witness count: not part of BitcoinKit's Input
            inp.inValue = _uint(out, p, 8);
            inp.inputTxId = bytes32(_uint(out, p + 8, 32));
            uint256 idxLen = current ? 4 : 2;
            inp.sourceIndex = _uint(out, p + 40, idxLen);
            p += 40 + idxLen;
            inp.fullScriptSigLength = _uint(out, p, 2);
            inp.containsFullScriptSig = inp.fullScriptSigLength <= MAX_SCRIPT;
            uint256 n = inp.containsFullScriptSig ? inp.fullScriptSigLength : MAX_SCRIPT;
            inp.scriptSig = _slice(out, p + 2, n);
            p += 2 + n;
            inp.sequence = _uint(out, p, 4);
            p += 4;
        }
        next = p;
    }

    function _outputs(
        bytes memory out,
        uint256 p
    ) private pure returns (Output[] memory outputs, uint256 total, uint256 next) {
        total = _uint(out, p, 2);
        p += 2;
        outputs = new Output[](total < MAX_ITEMS ? total : MAX_ITEMS);
        for (uint256 i; i < outputs.length; ++i) {
            Output memory o = outputs[i];
            o.outValue = _uint(out, p, 8);
            o.fullScriptLength = _uint(out, p + 8, 2);
            o.containsFullScript = o.fullScriptLength <= MAX_SCRIPT;
            uint256 n = o.containsFullScript ? o.fullScriptLength : MAX_SCRIPT;
            o.script = _slice(out, p + 10, n);
            p += 10 + n;
            o.isSpent = _uint(out, p, 1) != 0;
            p += 1;
        }
        next = p;
    }

    /// @dev Big-endian unsigned integer of `size` bytes at `p` (size <= 32), bounds-checked.
    function _uint(bytes memory b, uint256 p, uint256 size) private pure returns (uint256 v) {
        if (p + size > b.length) revert AnswerTruncated(p, size, b.length);
        assembly ("memory-safe") {
            v := shr(sub(256, mul(8, size)), mload(add(add(b, 0x20), p)))
        }
    }

    function _slice(bytes memory b, uint256 p, uint256 n) private pure returns (bytes memory s) {
        if (p + n > b.length) revert AnswerTruncated(p, n, b.length);
        s = new bytes(n);
        assembly ("memory-safe") {
            mcopy(add(s, 0x20), add(add(b, 0x20), p), n)
        }
    }
}
