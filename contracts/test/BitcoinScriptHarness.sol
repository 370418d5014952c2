// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinScript} from "../bitcoin/BitcoinScript.sol";

/// @title BitcoinScriptHarness
/// @notice Test-only contract exposing the BitcoinScript library.
contract BitcoinScriptHarness {
    /// @notice A measured call returned something impossible (keeps the optimizer from dropping the call).
    error InconsistentResult();

    /// @notice BitcoinScript.classify.
    /// @param script scriptPubKey.
    /// @return kind Script kind.
    /// @return payload Hash, program or OP_RETURN data.
    function classify(
        bytes calldata script
    ) external pure returns (BitcoinScript.ScriptKind kind, bytes memory payload) {
        return BitcoinScript.classify(script);
    }

    /// @notice Classifies many scripts in one call.
    /// @param scripts scriptPubKeys.
    /// @return kinds Script kinds.
    /// @return payloads Payloads.
    function classifyMany(
        bytes[] calldata scripts
    ) external pure returns (BitcoinScript.ScriptKind[] memory kinds, bytes[] memory payloads) {
        kinds = new BitcoinScript.ScriptKind[](scripts.length);
        payloads = new bytes[](scripts.length);
        for (uint256 i; i < scripts.length; ++i) {
            (kinds[i], payloads[i]) = BitcoinScript.classify(scripts[i]);
        }
    }

    /// @notice BitcoinScript.opReturnPayload.
    /// @param script scriptPubKey.
    /// @return ok Whether it is a well-formed OP_RETURN script.
    /// @return data Pushed data.
    function opReturnPayload(bytes calldata script) external pure returns (bool ok, bytes memory data) {
        return BitcoinScript.opReturnPayload(script);
    }

    /// @notice BitcoinScript.p2pkh.
    /// @param h Public key hash.
    /// @return Script.
    function p2pkh(bytes20 h) external pure returns (bytes memory) {
        return BitcoinScript.p2pkh(h);
    }

    /// @notice BitcoinScript.p2sh.
    /// @param h Script hash.
    /// @return Script.
    function p2sh(bytes20 h) external pure returns (bytes memory) {
        return BitcoinScript.p2sh(h);
    }

    /// @notice BitcoinScript.p2wpkh.
    /// @param h Public key hash.
    /// @return Script.
    function p2wpkh(bytes20 h) external pure returns (bytes memory) {
        return BitcoinScript.p2wpkh(h);
    }

    /// @notice BitcoinScript.p2wsh.
    /// @param h Witness script hash.
    /// @return Script.
    function p2wsh(bytes32 h) external pure returns (bytes memory) {
        return BitcoinScript.p2wsh(h);
    }

    /// @notice BitcoinScript.p2tr.
    /// @param key x-only output key.
    /// @return Script.
    function p2tr(bytes32 key) external pure returns (bytes memory) {
        return BitcoinScript.p2tr(key);
    }

    /// @notice BitcoinScript.opReturn.
    /// @param data Data to embed.
    /// @return Script.
    function opReturn(bytes calldata data) external pure returns (bytes memory) {
        return BitcoinScript.opReturn(data);
    }

    /// @notice Gas used inside the library by classify (no call overhead).
    /// @param script scriptPubKey.
    /// @return gasUsed Gas of BitcoinScript.classify.
    function measureClassify(bytes calldata script) external view returns (uint256 gasUsed) {
        bytes memory s = script;
        uint256 g = gasleft();
        (BitcoinScript.ScriptKind kind, bytes memory payload) = BitcoinScript.classify(s);
        gasUsed = g - gasleft();
        if (uint8(kind) > 6 || payload.length > s.length) revert InconsistentResult();
    }
}
