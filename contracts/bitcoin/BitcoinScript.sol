// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BytesSlice} from "./BytesSlice.sol";

/// @title BitcoinScript
/// @notice Classification of Bitcoin output scripts (scriptPubKey) and builders for the standard ones.
/// @dev Classification never reverts: anything that is not exactly a standard template is `Unknown`.
library BitcoinScript {
    /// @notice Kinds of output script recognised by `classify`.
    enum ScriptKind {
        Unknown,
        P2PKH, // OP_DUP OP_HASH160 <20> OP_EQUALVERIFY OP_CHECKSIG
        P2SH, // OP_HASH160 <20> OP_EQUAL
        P2WPKH, // OP_0 <20>
        P2WSH, // OP_0 <32>
        P2TR, // OP_1 <32>
        OpReturn // OP_RETURN followed only by pushes
    }

    /// @notice `opReturn` was given `length` bytes; one push holds at most `max` (OP_PUSHDATA2).
    error OpReturnDataTooLong(uint256 length, uint256 max);

    uint256 private constant OP_0 = 0x00;
    uint256 private constant OP_PUSHDATA1 = 0x4c;
    uint256 private constant OP_PUSHDATA2 = 0x4d;
    uint256 private constant OP_PUSHDATA4 = 0x4e;
    uint256 private constant OP_1NEGATE = 0x4f;
    uint256 private constant OP_1 = 0x51;
    uint256 private constant OP_16 = 0x60;
    uint256 private constant OP_RETURN = 0x6a;
    uint256 private constant MAX_OP_RETURN_PUSH = 0xffff;

    /// @notice Classifies an output script.
    /// @dev Payload: the 20-byte hash for P2PKH, P2SH and P2WPKH; the 32-byte program for P2WSH and P2TR (the
    ///      x-only output key for P2TR, not checked to be on the curve); for OpReturn, the concatenation of the
    ///      stack items its pushes produce (direct pushes 1..75, OP_PUSHDATA1/2/4, OP_0 as an empty item,
    ///      OP_1NEGATE as 0x81, OP_1..OP_16 as one byte 0x01..0x10, as Bitcoin's interpreter pushes them;
    ///      a bare OP_RETURN gives an empty payload). An OP_RETURN script with a non-push opcode after it, or with
    ///      a push that runs past the end, is `Unknown`. Unknown scripts have an empty payload.
    /// @param script The scriptPubKey.
    /// @return kind The script's kind.
    /// @return payload The hash, program or data as described above.
    function classify(bytes memory script) internal pure returns (ScriptKind kind, bytes memory payload) {
        uint256 len = script.length;
        if (len == 0) return (ScriptKind.Unknown, payload);
        uint256 word;
        assembly ("memory-safe") {
            word := mload(add(script, 0x20))
        }
        uint256 head = word >> 240; // first two bytes
        if (len == 25) {
            // 76 a9 14 <20> 88 ac
            if ((word >> 232) == 0x76a914 && ((word >> 56) & 0xffff) == 0x88ac) {
                return (ScriptKind.P2PKH, BytesSlice.slice(script, 3, 20));
            }
        } else if (len == 23) {
            // a9 14 <20> 87
            if (head == 0xa914 && ((word >> 72) & 0xff) == 0x87)
                return (ScriptKind.P2SH, BytesSlice.slice(script, 2, 20));
        } else if (len == 22) {
            // 00 14 <20>
            if (head == 0x0014) return (ScriptKind.P2WPKH, BytesSlice.slice(script, 2, 20));
        } else if (len == 34) {
            // 00 20 <32> or 51 20 <32>
            if (head == 0x0020) return (ScriptKind.P2WSH, BytesSlice.slice(script, 2, 32));
            if (head == 0x5120) return (ScriptKind.P2TR, BytesSlice.slice(script, 2, 32));
        }
        if ((word >> 248) == OP_RETURN) {
            bool ok;
            (ok, payload) = _pushedData(script, 1);
            if (ok) return (ScriptKind.OpReturn, payload);
            return (ScriptKind.Unknown, "");
        }
        return (ScriptKind.Unknown, payload);
    }

    /// @notice The data of an OP_RETURN output script, as `classify` extracts it.
    /// @param script The scriptPubKey.
    /// @return ok True when the script is OP_RETURN followed only by well-formed pushes.
    /// @return data The concatenated pushed data (empty when `ok` is false).
    function opReturnPayload(bytes memory script) internal pure returns (bool ok, bytes memory data) {
        if (script.length == 0 || _byteAt(script, 0) != OP_RETURN) return (false, data);
        (ok, data) = _pushedData(script, 1);
        if (!ok) data = "";
    }

    /// @notice P2PKH script: OP_DUP OP_HASH160 <pubKeyHash> OP_EQUALVERIFY OP_CHECKSIG.
    /// @param pubKeyHash HASH160 of the public key.
    /// @return The 25-byte script.
    function p2pkh(bytes20 pubKeyHash) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes3(0x76a914), pubKeyHash, bytes2(0x88ac));
    }

    /// @notice P2SH script: OP_HASH160 <scriptHash> OP_EQUAL.
    /// @param scriptHash HASH160 of the redeem script.
    /// @return The 23-byte script.
    function p2sh(bytes20 scriptHash) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes2(0xa914), scriptHash, bytes1(0x87));
    }

    /// @notice P2WPKH script: OP_0 <pubKeyHash>.
    /// @param pubKeyHash HASH160 of the compressed public key.
    /// @return The 22-byte script.
    function p2wpkh(bytes20 pubKeyHash) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes2(0x0014), pubKeyHash);
    }

    /// @notice P2WSH script: OP_0 <witnessScriptHash>.
    /// @param witnessScriptHash SHA-256 of the witness script.
    /// @return The 34-byte script.
    function p2wsh(bytes32 witnessScriptHash) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes2(0x0020), witnessScriptHash);
    }

    /// @notice P2TR script: OP_1 <outputKey>.
    /// @param outputKey The 32-byte x-only taproot output key.
    /// @return The 34-byte script.
    function p2tr(bytes32 outputKey) internal pure returns (bytes memory) {
        return abi.encodePacked(bytes2(0x5120), outputKey);
    }

    /// @notice OP_RETURN script carrying `data` in one push, encoded as Bitcoin Core's `CScript() << OP_RETURN
    ///         << data` does: a direct push for 0..75 bytes (0 bytes gives OP_RETURN OP_0), OP_PUSHDATA1 for
    ///         76..255 (80 bytes give the 83-byte OP_RETURN OP_PUSHDATA1 0x50 <80 bytes>), OP_PUSHDATA2 above.
    /// @param data The data to embed (at most 65535 bytes).
    /// @return The script.
    function opReturn(bytes memory data) internal pure returns (bytes memory) {
        uint256 n = data.length;
        if (n < OP_PUSHDATA1) return abi.encodePacked(bytes1(0x6a), uint8(n), data);
        if (n <= 0xff) return abi.encodePacked(bytes2(0x6a4c), uint8(n), data);
        if (n > MAX_OP_RETURN_PUSH) revert OpReturnDataTooLong(n, MAX_OP_RETURN_PUSH);
        return abi.encodePacked(bytes2(0x6a4d), uint8(n), uint8(n >> 8), data);
    }

    /// @dev Walks the pushes of `script` from `off` to the end and concatenates the items they push.
    ///      Returns ok = false on a non-push opcode or a push that runs past the end.
    function _pushedData(bytes memory script, uint256 off) private pure returns (bool ok, bytes memory data) {
        uint256 len = script.length;
        // The data is never longer than the script, so one allocation of `len` bytes holds it.
        uint256 dst;
        assembly ("memory-safe") {
            data := mload(0x40)
            dst := add(data, 0x20)
        }
        uint256 out; // bytes written
        unchecked {
            while (off < len) {
                uint256 op = _byteAt(script, off);
                ++off;
                uint256 n;
                if (op < OP_PUSHDATA1) {
                    n = op; // OP_0 pushes an empty item
                } else if (op <= OP_PUSHDATA4) {
                    uint256 size = op == OP_PUSHDATA1 ? 1 : (op == OP_PUSHDATA2 ? 2 : 4);
                    if (off + size > len) return (false, "");
                    assembly ("memory-safe") {
                        // Little-endian length of `size` bytes.
                        let w := mload(add(add(script, 0x20), off))
                        for {
                            let i := 0
                        } lt(i, size) {
                            i := add(i, 1)
                        } {
                            n := or(n, shl(shl(3, i), byte(i, w)))
                        }
                    }
                    off += size;
                } else if (op == OP_1NEGATE || (op >= OP_1 && op <= OP_16)) {
                    uint256 item = op == OP_1NEGATE ? 0x81 : op - 0x50;
                    assembly ("memory-safe") {
                        mstore8(add(dst, out), item)
                    }
                    ++out;
                    continue;
                } else {
                    return (false, "");
                }
                if (off + n > len) return (false, "");
                assembly ("memory-safe") {
                    mcopy(add(dst, out), add(add(script, 0x20), off), n)
                }
                off += n;
                out += n;
            }
            assembly ("memory-safe") {
                mstore(data, out)
                mstore(add(dst, out), 0)
                mstore(0x40, add(dst, and(add(out, 31), not(31))))
            }
        }
        return (true, data);
    }

    /// @dev Byte at `off` (caller checks bounds).
    function _byteAt(bytes memory b, uint256 off) private pure returns (uint256 v) {
        assembly ("memory-safe") {
            v := byte(0, mload(add(add(b, 0x20), off)))
        }
    }
}
