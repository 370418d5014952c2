// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {BitcoinLightClient} from "../bitcoin/BitcoinLightClient.sol";

/// @title VerifyTxGasMeter
/// @notice Measures what a contract pays to call BitcoinLightClient.verifyTx (benchmarks only).
contract VerifyTxGasMeter {
    /// @notice Calls verifyTx and reports the gas the call consumed.
    function measure(
        BitcoinLightClient client,
        BitcoinLightClient.TxProof calldata proof,
        uint32 minConfirmations
    ) external view returns (uint256 gasUsed, bytes32 txid) {
        uint256 before = gasleft();
        txid = client.verifyTx(proof, minConfirmations);
        gasUsed = before - gasleft();
    }
}
