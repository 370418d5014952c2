// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinAddress} from "../bitcoin/BitcoinAddress.sol";
import {BitcoinLightClient} from "../bitcoin/BitcoinLightClient.sol";

/// @title BitcoinAddressHarness
/// @notice Test helper exposing BitcoinAddress.toScript for every network.
contract BitcoinAddressHarness {
    /// @notice BitcoinAddress.toScript(addr, network).
    function toScript(
        bytes calldata addr,
        BitcoinLightClient.Network network
    ) external view returns (bool ok, bytes memory script) {
        return BitcoinAddress.toScript(addr, network);
    }
}
