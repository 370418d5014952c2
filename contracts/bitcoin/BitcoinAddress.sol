// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Base58Check} from "./Base58Check.sol";
import {Bech32} from "./Bech32.sol";
import {BitcoinLightClient} from "./BitcoinLightClient.sol";
import {BitcoinScript} from "./BitcoinScript.sol";

/// @title BitcoinAddress
/// @notice Bitcoin address strings to output scripts, with the rules of btcd's `btcutil.DecodeAddress` +
///         `txscript.PayToAddrScript` that Hemi's hVM precompiles use, for one network.
/// @dev Accepted: bech32/bech32m segwit addresses whose hrp is the network's ("bc", "tb", "bcrt"); witness
///      version 0 or 1 only (btcutil refuses others); a 20-byte program gives P2WPKH (also under version 1, as
///      btcutil does), a 32-byte program P2WSH (v0) or P2TR (v1). Base58Check addresses of 25 bytes whose version
///      byte is the network's P2PKH or P2SH version (testnet and regtest share 0x6f / 0xc4). Not accepted (an
///      address string btcutil would take): a hex-encoded public key (66 or 130 hex characters, "pay to pubkey").
///      Never reverts.
library BitcoinAddress {
    /// @notice The output script an address pays to.
    /// @param addr The address as ASCII bytes.
    /// @param network The network whose prefixes and version bytes apply.
    /// @return ok False when the address does not decode on that network.
    /// @return script The scriptPubKey (empty when `ok` is false).
    function toScript(
        bytes memory addr,
        BitcoinLightClient.Network network
    ) internal view returns (bool ok, bytes memory script) {
        bytes memory hrp = _hrp(network);
        if (_hasSegwitPrefix(addr, hrp)) {
            (bool segOk, uint8 version, bytes memory program) = Bech32.decodeSegwit(addr, hrp);
            if (!segOk || version > 1) return (false, script);
            if (program.length == 20) return (true, BitcoinScript.p2wpkh(bytes20(program)));
            if (program.length != 32) return (false, script);
            bytes32 prog = bytes32(program);
            return (true, version == 1 ? BitcoinScript.p2tr(prog) : BitcoinScript.p2wsh(prog));
        }
        (bool b58Ok, uint8 ver, bytes20 hash) = Base58Check.decode25(addr);
        if (!b58Ok) return (false, script);
        bool main = network == BitcoinLightClient.Network.Mainnet;
        if (ver == (main ? 0x00 : 0x6f)) return (true, BitcoinScript.p2pkh(hash));
        if (ver == (main ? 0x05 : 0xc4)) return (true, BitcoinScript.p2sh(hash));
        return (false, script);
    }

    /// @dev The network's segwit human-readable part.
    function _hrp(BitcoinLightClient.Network network) private pure returns (bytes memory) {
        if (network == BitcoinLightClient.Network.Mainnet) return "bc";
        if (network == BitcoinLightClient.Network.Testnet) return "tb";
        return "bcrt";
    }

    /// @dev Whether the text before the last '1' is `hrp` (case-insensitive): the address is then decoded as
    ///      segwit only, as btcutil does for a known segwit prefix.
    function _hasSegwitPrefix(bytes memory addr, bytes memory hrp) private pure returns (bool) {
        uint256 len = addr.length;
        uint256 sep = type(uint256).max;
        for (uint256 i = len; i > 0; --i) {
            if (addr[i - 1] == "1") {
                sep = i - 1;
                break;
            }
        }
        if (sep != hrp.length) return false;
        for (uint256 i; i < sep; ++i) {
            uint8 c = uint8(addr[i]);
            if (c >= 0x41 && c <= 0x5a) c += 32;
            if (bytes1(c) != hrp[i]) return false;
        }
        return true;
    }
}
