// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinLightClient} from "../bitcoin/BitcoinLightClient.sol";
import {TxIndexQueries} from "./TxIndexQueries.sol";
import {TxIndexStorage} from "./TxIndexStorage.sol";
import {TxIndexWriter} from "./TxIndexWriter.sol";

/// @title BitcoinTxIndex
/// @notice A trustless index of Bitcoin transactions, outputs and spends over a BitcoinLightClient: the data behind
///         the hVM precompile emulators. Nothing enters without a proof against the light client (an SPV proof for
///         one transaction, the merkle root and the witness commitment for a whole block), and every answer
///         follows the light client's canonical chain at query time, `lag` blocks behind its tip.
contract BitcoinTxIndex is TxIndexWriter, TxIndexQueries {
    /// @param lightClient_ The light client.
    /// @param lag_ Blocks hidden at the tip (Hemi: 2; 0 shows the tip).
    constructor(BitcoinLightClient lightClient_, uint32 lag_) TxIndexStorage(lightClient_, lag_) {}
}
