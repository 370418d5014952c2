// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinAddress} from "../../bitcoin/BitcoinAddress.sol";
import {BitcoinLightClient} from "../../bitcoin/BitcoinLightClient.sol";
import {BitcoinTxIndex} from "../BitcoinTxIndex.sol";
import {HvmPrecompile} from "./HvmPrecompile.sol";

/// @title HvmAddressPrecompile
/// @notice Base of the emulators that take a Bitcoin address (0x40, 0x41, 0x46): decoded for the light client's
///         network, fixed at deployment.
abstract contract HvmAddressPrecompile is HvmPrecompile {
    /// @dev Hemi's precompiles answer empty for an address input shorter than this.
    uint256 internal constant MIN_ADDRESS_LENGTH = 24;
    /// @dev The network whose address formats apply.
    BitcoinLightClient.Network internal immutable _network;

    constructor(BitcoinTxIndex index_) HvmPrecompile(index_) {
        _network = index_.lightClient().network();
    }

    /// @dev The script an address pays to, for this network.
    function _script(bytes memory addr) internal view returns (bool ok, bytes memory script) {
        return BitcoinAddress.toScript(addr, _network);
    }
}
