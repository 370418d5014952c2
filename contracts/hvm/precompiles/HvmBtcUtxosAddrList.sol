// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {TxIndexStorage} from "../TxIndexStorage.sol";
import {HvmAddressPrecompile} from "./HvmAddressPrecompile.sol";
import {HvmWriter} from "../HvmWriter.sol";

/// @title HvmBtcUtxosAddrList
/// @notice hVM 0x41 btcUtxosAddrList: ASCII address | start (3 bytes BE, an item offset) | count (1 byte, 0 = 10)
///         in; n (1 byte) then n records txid (32, display) | output index (2 BE) | value (8 BE) out, ordered by
///         txid in internal byte order then output index.
/// @dev Empty answer for an input under 28 bytes or an address that does not decode.
contract HvmBtcUtxosAddrList is HvmAddressPrecompile {
    using HvmWriter for HvmWriter.Writer;

    constructor(BitcoinTxIndex index_) HvmAddressPrecompile(index_) {}

    /// @notice The precompile: raw bytes in, raw bytes out.
    // A precompile has only its fallback: the fallback is the whole interface.
    // solhint-disable-next-line no-complex-fallback
    fallback(bytes calldata input) external returns (bytes memory) {
        uint256 len = input.length;
        if (len < MIN_ADDRESS_LENGTH + 4) return "";
        (bool ok, bytes memory script) = _script(input[0:len - 4]);
        if (!ok) return "";
        uint256 start = _be(input, len - 4, 3);
        uint256 count = uint8(input[len - 1]);
        if (count == 0) count = 10;
        TxIndexStorage.OutRef[] memory page = _index.unspentOutputs(keccak256(script), start, count);
        uint256 n = page.length;
        HvmWriter.Writer memory w = HvmWriter.init(1 + 42 * n);
        w.uintBE(n, 1);
        for (uint256 i; i < n; ++i) {
            w.word(_flip(page[i].txid));
            w.uintBE(page[i].vout, 2);
            w.uintBE(page[i].value, 8);
        }
        return w.done();
    }
}
