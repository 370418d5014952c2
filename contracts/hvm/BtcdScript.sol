// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title BtcdScript
/// @notice btcd's `txscript.IsUnspendable`, which decides what the hVM treats as an "unspendable" output.
library BtcdScript {
    /// @dev btcd's MaxScriptSize.
    uint256 private constant MAX_SCRIPT_SIZE = 10_000;

    /// @notice True when the script starts with OP_RETURN, is longer than 10,000 bytes, or does not parse (a push
    ///         that runs past the end); such outputs never enter the UTXO set.
    function isUnspendable(bytes memory script) internal pure returns (bool) {
        uint256 len = script.length;
        if (len > 0 && uint8(script[0]) == 0x6a) return true;
        if (len > MAX_SCRIPT_SIZE) return true;
        uint256 i;
        while (i < len) {
            uint256 op = uint8(script[i]);
            ++i;
            uint256 n;
            if (op >= 0x01 && op <= 0x4b) {
                n = op;
            } else if (op == 0x4c) {
                if (i + 1 > len) return true;
                n = uint8(script[i]);
                i += 1;
            } else if (op == 0x4d) {
                if (i + 2 > len) return true;
                n = uint256(uint8(script[i])) | (uint256(uint8(script[i + 1])) << 8);
                i += 2;
            } else if (op == 0x4e) {
                if (i + 4 > len) return true;
                for (uint256 k; k < 4; ++k) n |= uint256(uint8(script[i + k])) << (8 * k);
                i += 4;
            }
            if (i + n > len) return true;
            i += n;
        }
        return false;
    }
}
