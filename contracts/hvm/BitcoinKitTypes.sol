// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

// The structs of Hemi's IBitcoinKit (hemilabs/bitcoin-tunnel-contracts, contracts/bitcoinkit/), same names, field
// names, types and order, so that a contract written against Hemi's interface decodes our answers unchanged.

/// @notice An unspent output of an address (scriptPubKey is left empty, as Hemi's BitcoinKit does).
struct UTXO {
    bytes32 txId; // display order
    uint256 index;
    uint256 value; // sats
    bytes scriptPubKey;
}

/// @notice A transaction as BitcoinKit returns it.
struct Transaction {
    bytes32 containingBlockHash; // display order
    uint256 transactionVersion;
    uint256 size; // full serialized size, witness included
    uint256 vSize; // Hemi's name; it holds the stripped (non-witness) size
    uint256 lockTime;
    Input[] inputs; // at most 32
    Output[] outputs; // at most 32
    uint256 totalInputs;
    uint256 totalOutputs;
    bool containsAllInputs;
    bool containsAllOutputs;
}

/// @notice One input.
struct Input {
    uint256 inValue; // value of the output it spends
    bytes32 inputTxId; // display order
    uint256 sourceIndex;
    bytes scriptSig; // cut to 64 bytes
    uint256 sequence;
    uint256 fullScriptSigLength;
    bool containsFullScriptSig;
}

/// @notice One output (outputAddress, isOpReturn, opReturnData and spentDetail stay empty, as in Hemi's BitcoinKit).
struct Output {
    uint256 outValue;
    bytes script; // cut to 64 bytes
    string outputAddress;
    bool isOpReturn;
    bytes opReturnData;
    bool isSpent; // Hemi's inverted byte: true while the output is still UNSPENT
    uint256 fullScriptLength;
    bool containsFullScript;
    SpentDetail spentDetail;
}

/// @notice Where an output was spent (never filled, as in Hemi's BitcoinKit).
struct SpentDetail {
    bytes32 spendingTxId;
    uint256 inputIndex;
}

/// @notice A Bitcoin header record (hashes in display order).
struct BitcoinHeader {
    uint32 height;
    bytes32 blockHash;
    uint32 version;
    bytes32 previousBlockHash;
    bytes32 merkleRoot;
    uint32 timestamp;
    uint32 bits;
    uint32 nonce;
}
