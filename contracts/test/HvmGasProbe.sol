// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @title HvmGasProbe
/// @notice Test helper: STATICCALLs a precompile address with a known amount of gas and reports the outcome and the
///         gas the call consumed (a call failure burns everything forwarded).
contract HvmGasProbe {
    /// @notice One probe's outcome.
    event Probed(bool ok, uint256 returnSize, uint256 gasSpent);

    /// @notice Calls `target` with `input`, forwarding exactly `gasToForward`.
    function probe(
        address target,
        bytes calldata input,
        uint256 gasToForward
    ) external returns (bool ok, uint256 returnSize, uint256 gasSpent) {
        bytes memory data = input;
        uint256 before = gasleft();
        assembly {
            ok := staticcall(gasToForward, target, add(data, 0x20), mload(data), 0, 0)
            returnSize := returndatasize()
        }
        gasSpent = before - gasleft();
        emit Probed(ok, returnSize, gasSpent);
    }
}
