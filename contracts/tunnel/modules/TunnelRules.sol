// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ITunnelErrors} from "../ITunnelErrors.sol";
import {TunnelState, Vault, VaultStatus} from "../TunnelState.sol";

/// @title TunnelRules
/// @notice The small rules every tunnel module applies: looking a vault up, fees, which deposits a vault takes,
///         which scripts the tunnel pays, and outpoint keys.
library TunnelRules {
    uint256 internal constant BPS = 10_000;

    /// @notice The vault `vaultId`; reverts UnknownVault for an id never created.
    function existing(TunnelState storage s, uint32 vaultId) internal view returns (Vault storage v) {
        v = s.vaults[vaultId];
        if (v.status == VaultStatus.None) revert ITunnelErrors.UnknownVault(vaultId);
    }

    /// @notice The vault `vaultId`, which the caller must operate.
    function operated(TunnelState storage s, uint32 vaultId) internal view returns (Vault storage v) {
        v = existing(s, vaultId);
        if (msg.sender != v.operator) revert ITunnelErrors.NotVaultOperator(vaultId, msg.sender);
    }

    /// @notice flat + sats * bps / BPS. Fits uint64: flat <= 2.1e15 and bps <= 5000 (the governance caps).
    function fee(uint64 sats, uint16 bps, uint64 flat) internal pure returns (uint64) {
        return uint64(uint256(flat) + (uint256(sats) * bps) / BPS);
    }

    /// @notice The withdrawal fee of `sats` in force now: a scheduled raise counts once its time has come.
    function withdrawalFee(Vault storage v, uint64 sats) internal view returns (uint64) {
        uint48 at = v.withdrawalFeeRaiseAt;
        if (at != 0 && block.timestamp >= at) return fee(sats, v.nextWithdrawalFeeBps, v.nextWithdrawalFlatFee);
        return fee(sats, v.withdrawalFeeBps, v.withdrawalFlatFee);
    }

    /// @notice Whether the vault mints a deposit from a block at `blockHeight`: a Live vault without a deposit
    ///         window takes any; a Live (capped) or Closing vault takes blocks up to `depositsUntilHeight`.
    function takesDeposit(Vault storage v, uint32 blockHeight) internal view returns (bool) {
        VaultStatus st = v.status;
        if (st != VaultStatus.Live && st != VaultStatus.Closing) return false;
        uint32 until = v.depositsUntilHeight;
        if (st == VaultStatus.Live && until == 0) return true;
        return blockHeight <= until;
    }

    /// @notice Whether a script is one the tunnel can hold custody in or pay out to: exactly a P2WPKH (0x0014 <20>),
    ///         P2WSH (0x0020 <32>), P2TR (0x5120 <32>), P2PKH (0x76a914 <20> 0x88ac) or P2SH (0xa914 <20> 0x87).
    function isPayableScript(bytes calldata script) internal pure returns (bool) {
        uint256 len = script.length;
        if (len == 0) return false;
        uint256 w;
        assembly {
            w := calldataload(script.offset)
        }
        uint256 head = w >> 240;
        if (len == 22) return head == 0x0014;
        if (len == 34) return head == 0x0020 || head == 0x5120;
        if (len == 25) return (w >> 232) == 0x76a914 && ((w >> 56) & 0xffff) == 0x88ac;
        if (len == 23) return head == 0xa914 && ((w >> 72) & 0xff) == 0x87;
        return false;
    }

    /// @notice keccak256(txid || vout as 4 bytes big-endian): the key of a deposit record.
    function outpointKey(bytes32 txid, uint32 vout) internal pure returns (bytes32 key) {
        assembly ("memory-safe") {
            mstore(0x00, txid)
            mstore(0x20, shl(224, vout))
            key := keccak256(0x00, 0x24)
        }
    }
}
