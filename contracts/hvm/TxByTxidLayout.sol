// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The two answer layouts of the hVM's 0x42 (btcTxByTxid), chosen per deployment.
/// @dev Current: the newest op-geth layout (witness count tied to flag 1 bit 6, outputs on flag 2 bit 5, 4-byte
///      prevout index). BitcoinKit2024: the October 2024 layout that Hemi's published BitcoinKit.sol parses
///      (outputs on flag 2 bit 6, 2-byte prevout index, no witness count).
enum TxByTxidLayout {
    Current,
    BitcoinKit2024
}
