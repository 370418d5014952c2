// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The part of Hemi's BitcoinKit (hBK) this contract uses, with Hemi's names and types.
interface IBitcoinKitPayments {
    /// @dev Hemi's UTXO struct: txId in display order, value in satoshis.
    struct UTXO {
        bytes32 txId;
        uint256 index;
        uint256 value;
        bytes scriptPubKey;
    }

    function getUTXOsForBitcoinAddress(
        string calldata btcAddress,
        uint256 pageNumber,
        uint256 pageSize
    ) external view returns (UTXO[] memory);
}

/// @title PaymentRelease
/// @notice Holds ETH for a beneficiary and releases it once a Bitcoin address holds at least `minSats` in outputs
///         that each have at least `minConfirmations` confirmations. Bitcoin is read through BitcoinKit (the
///         address's unspent outputs) and, for confirmations, by calling Hemi's btcTxConfirmations precompile
///         (0x43) directly, as a contract on Hemi would.
contract PaymentRelease {
    /// @notice Hemi's btcTxConfirmations precompile.
    address public constant BTC_TX_CONFIRMATIONS = address(0x43);
    /// @notice Gas given to one 0x43 call: an unknown txid makes the call fail and burn what it was given.
    uint256 public constant CONFIRMATIONS_CALL_GAS = 100_000;
    /// @notice Unspent outputs read per BitcoinKit page (Hemi's page size limit is 255).
    uint256 public constant PAGE_SIZE = 50;

    IBitcoinKitPayments public immutable bitcoinKit;
    address payable public immutable beneficiary;
    uint256 public immutable minSats;
    uint32 public immutable minConfirmations;
    string public btcAddress;
    bool public released;

    /// @notice The contract paid the beneficiary: `confirmedSats` were confirmed at the address.
    event Released(address indexed beneficiary, uint256 amountWei, uint256 confirmedSats);

    /// @notice Fewer confirmed satoshis than required are at the address.
    error NotPaid(uint256 confirmedSats, uint256 requiredSats);
    /// @notice The funds were released already.
    error AlreadyReleased();
    /// @notice The ETH transfer to the beneficiary failed.
    error TransferFailed();

    /// @param kit BitcoinKit's address.
    /// @param payee The Bitcoin address that must be paid.
    /// @param sats The satoshis it must hold, in outputs with `confirmations` confirmations at least.
    /// @param confirmations Confirmations each counted output needs.
    /// @param to Who receives the ETH held by this contract.
    constructor(
        IBitcoinKitPayments kit,
        string memory payee,
        uint256 sats,
        uint32 confirmations,
        address payable to
    ) payable {
        bitcoinKit = kit;
        btcAddress = payee;
        minSats = sats;
        minConfirmations = confirmations;
        beneficiary = to;
    }

    /// @notice Confirmations of a transaction (display-order txid), straight from precompile 0x43; 0 when the
    ///         precompile does not know the transaction (its call fails).
    function confirmationsOf(bytes32 txId) public view returns (uint32) {
        (bool ok, bytes memory out) = BTC_TX_CONFIRMATIONS.staticcall{gas: CONFIRMATIONS_CALL_GAS}(abi.encode(txId));
        if (!ok || out.length < 4) return 0;
        return uint32(bytes4(out));
    }

    /// @notice Satoshis at the address in unspent outputs with at least `minConfirmations` confirmations.
    function confirmedSats() public view returns (uint256 total) {
        for (uint256 start; ; start += PAGE_SIZE) {
            IBitcoinKitPayments.UTXO[] memory utxos = bitcoinKit.getUTXOsForBitcoinAddress(
                btcAddress,
                start,
                PAGE_SIZE
            );
            for (uint256 i; i < utxos.length; ++i) {
                if (confirmationsOf(utxos[i].txId) >= minConfirmations) total += utxos[i].value;
            }
            if (utxos.length < PAGE_SIZE) return total;
        }
    }

    /// @notice Sends the held ETH to the beneficiary once the address is paid; anyone may call it.
    function release() external {
        if (released) revert AlreadyReleased();
        uint256 sats = confirmedSats();
        if (sats < minSats) revert NotPaid(sats, minSats);
        released = true;
        uint256 amount = address(this).balance;
        emit Released(beneficiary, amount, sats);
        (bool ok, ) = beneficiary.call{value: amount}("");
        if (!ok) revert TransferFailed();
    }
}
