/**
 * Gas benchmark of the hVM: BitcoinTxIndex.indexBlock per block size (gas per transaction), one indexTx with an SPV
 * proof, each precompile emulator call and each BitcoinKit call (as a calling contract sees it: STATICCALL
 * including the cold-account access), beside Hemi's fixed precompile gas.
 * Run: npm run bench:hvm. Prints tables and writes bench/results/hvm.json.
 */
import { ethers } from "hardhat";
import { Transaction } from "bitcoinjs-lib";
import type { HvmGasProbe } from "../../typechain-types";
import { buildSignedTx, keyOutput, randomKey, type UtxoToSpend } from "../../relayer/src/bitcoin/txBuilder";
import { PRECOMPILES, indexBlock, indexTxWithProof, syncIndex, type PrecompileKey } from "../../relayer/src/hvm";
import { fundedKey, startMiniChain, syncHeaders, type MiniChain } from "../../test/hvm/fixture";
import { installHvmPrecompiles } from "../../relayer/src/hvm";
import { printTable, writeBenchResult } from "./report";

const BLOCK_SIZES = [1, 10, 50, 100];

async function mineAndIndex(
  m: MiniChain,
  txs: Transaction[],
): Promise<{ gas: bigint; txCount: number; bytes: number; mode: string }> {
  for (const tx of txs) await m.t.rpc.sendRawTransaction(tx.toHex());
  const [hash] = await m.t.rpc.generateToAddress(1, m.t.minerAddress);
  await syncHeaders(m.t.rpc, m.lc);
  const r = await indexBlock(m.index, m.t.rpc, hash);
  const raw = (await m.t.rpc.getBlock(hash, 0)) as string;
  return { gas: r.gasUsed, txCount: r.txCount, bytes: raw.length / 2, mode: r.mode };
}

async function main(): Promise<void> {
  const m = await startMiniChain(0);
  try {
    await installHvmPrecompiles(ethers.provider, m.hvm);
    await syncHeaders(m.t.rpc, m.lc, 102);
    await syncIndex(m.index, m.t.rpc);

    // Fund one key with enough outputs for the largest block, indexed before the measured blocks.
    const total = BLOCK_SIZES.reduce((a, b) => a + b, 0);
    const src = await fundedKey(m.t, "p2wpkh", 20);
    const key = randomKey();
    const own = keyOutput(key, "p2wpkh");
    const fan = buildSignedTx({
      inputs: [src],
      outputs: [
        ...Array.from({ length: total }, () => ({ script: own.script, value: 1_000_000n })),
        { script: keyOutput(src.key, "p2wpkh").script, value: src.value - BigInt(total) * 1_000_000n - 100_000n },
      ],
    });
    await syncHeaders(m.t.rpc, m.lc);
    await syncIndex(m.index, m.t.rpc);
    const fanBlock = await mineAndIndex(m, [fan]);
    const utxos: UtxoToSpend[] = Array.from({ length: total }, (_, i) => ({
      txid: fan.getId(),
      vout: i,
      value: 1_000_000n,
      script: own.script,
      key,
    }));
    const rows: { txs: number; blockBytes: number; mode: string; gas: bigint; gasPerTx: bigint }[] = [];
    let next = 0;
    let spendTxid = "";
    for (const n of BLOCK_SIZES) {
      const txs = utxos.slice(next, next + n).map((u) =>
        buildSignedTx({
          inputs: [u],
          outputs: [
            { address: keyOutput(randomKey(), "p2wpkh").address, value: 600_000n },
            { script: own.script, value: u.value - 600_000n - 2_000n },
          ],
        }),
      );
      next += n;
      const r = await mineAndIndex(m, txs);
      if (r.mode === "whole") spendTxid = txs[0].getId(); // BitcoinKit needs witness data proven (a whole block)
      rows.push({ txs: r.txCount, blockBytes: r.bytes, mode: r.mode, gas: r.gas, gasPerTx: r.gas / BigInt(r.txCount) });
      console.log(`  indexed a block of ${r.txCount} txs (${r.mode}): ${r.gas} gas`);
    }
    printTable(
      "BitcoinTxIndex.indexBlock (each tx: 1 P2WPKH input, 2 outputs; plus the coinbase)",
      ["txs in block", "block bytes", "mode", "gas (all EVM txs)", "gas per tx"],
      rows.map((r) => [r.txs, r.blockBytes, r.mode, r.gas.toString(), r.gasPerTx.toString()]),
    );
    console.log(`  (the 1-tx fan-out block with ${total + 1} outputs: ${fanBlock.gas} gas)`);

    // One transaction entered alone with an SPV proof.
    const lone = await fundedKey(m.t, "p2wpkh", 1);
    await syncHeaders(m.t.rpc, m.lc);
    const receipt = await indexTxWithProof(m.index, m.t.rpc, lone.txid);
    const loneAddr = keyOutput(lone.key, "p2wpkh").address;
    await syncIndex(m.index, m.t.rpc);
    console.log(`\nindexTx (one transaction with an SPV proof): ${receipt.gasUsed} gas`);

    // Precompile and BitcoinKit calls, measured by a contract forwarding 10M gas.
    const probe = (await (await ethers.getContractFactory("HvmGasProbe")).deploy()) as unknown as HvmGasProbe;
    const measure = async (to: string, data: string): Promise<bigint> => {
      const [ok, , spent] = await probe.probe.staticCall(to, data, 10_000_000);
      if (!ok) throw new Error(`call to ${to} with ${data.slice(0, 10)} failed`);
      return spent;
    };
    const txid = fan.getId();
    const addr = own.address;
    const [, , top] = await m.index.tipView();
    const hexLone = "0x" + Buffer.from(loneAddr, "ascii").toString("hex");
    const inputs: Record<PrecompileKey, [string, string]> = {
      "0x40": [hexLone, "address with 1 output"],
      "0x41": [hexLone + "0000000a", "address with 1 output, first 10"],
      "0x42": ["0x" + spendTxid + "7fbc2d0a", "BitcoinKit's flags, 1-in 2-out tx"],
      "0x43": ["0x" + spendTxid, "txid"],
      "0x44": ["0x", "empty input"],
      "0x45": ["0x" + Number(top).toString(16).padStart(8, "0"), "height"],
      "0x46": [hexLone, "P2WPKH address"],
      "0x47": ["0x" + spendTxid + "00000040", "input 0 of a 1-in 2-out tx"],
      "0x48": ["0x" + spendTxid + "00000040", "output 0 of a 1-in 2-out tx"],
      "0x49": ["0x" + spendTxid + "000000000040", "input 0, item 0"],
    };

    const pre: { key: string; name: string; hemiGas: number; ours: bigint; input: string }[] = [];
    for (const p of PRECOMPILES) {
      const [data, what] = inputs[p.key];
      pre.push({ key: p.key, name: p.goName, hemiGas: p.hemiGas, ours: await measure(p.address, data), input: what });
    }
    printTable(
      "hVM precompile calls (STATICCALL from a contract, incl. 2,600 cold access)",
      ["addr", "name", "Hemi gas", "emulator gas", "input"],
      pre.map((r) => [r.key, r.name, r.hemiGas, r.ours.toString(), r.input]),
    );

    const kit = m.kit;
    const kitCalls: [string, string][] = [
      [
        "getBitcoinAddressBalance (address with 1 output)",
        kit.interface.encodeFunctionData("getBitcoinAddressBalance", [loneAddr]),
      ],
      [
        `getBitcoinAddressBalance (${total + 1} outputs seen)`,
        kit.interface.encodeFunctionData("getBitcoinAddressBalance", [addr]),
      ],
      [
        "getUTXOsForBitcoinAddress",
        kit.interface.encodeFunctionData("getUTXOsForBitcoinAddress(string,uint256,uint256)", [addr, 0, 10]),
      ],
      ["getScriptForAddress", kit.interface.encodeFunctionData("getScriptForAddress", [addr])],
      ["isAddressValid", kit.interface.encodeFunctionData("isAddressValid", [addr])],
      ["transactionExists", kit.interface.encodeFunctionData("transactionExists", ["0x" + spendTxid])],
      [
        "getTransactionByTxId (1 in, 2 out)",
        kit.interface.encodeFunctionData("getTransactionByTxId", ["0x" + spendTxid]),
      ],
      [
        `getTransactionByTxId (1 in, 32 of ${total + 1} out)`,
        kit.interface.encodeFunctionData("getTransactionByTxId", ["0x" + txid]),
      ],
      ["getTxConfirmations", kit.interface.encodeFunctionData("getTxConfirmations", ["0x" + txid])],
      ["getTxInputCount", kit.interface.encodeFunctionData("getTxInputCount", ["0x" + spendTxid])],
      ["getTxOutputCount", kit.interface.encodeFunctionData("getTxOutputCount", ["0x" + spendTxid])],
      ["getSpecificTxInput", kit.interface.encodeFunctionData("getSpecificTxInput", ["0x" + spendTxid, 0])],
      ["getSpecificTxOutput", kit.interface.encodeFunctionData("getSpecificTxOutput", ["0x" + spendTxid, 0])],
      [
        "getTransactionInputsByTxId",
        kit.interface.encodeFunctionData("getTransactionInputsByTxId", ["0x" + spendTxid]),
      ],
      [
        "getTransactionOutputsByTxId",
        kit.interface.encodeFunctionData("getTransactionOutputsByTxId", ["0x" + spendTxid]),
      ],
      ["getLastHeader", kit.interface.encodeFunctionData("getLastHeader")],
      ["getHeaderN", kit.interface.encodeFunctionData("getHeaderN", [top])],
    ];
    const kitRows: { fn: string; gas: bigint }[] = [];
    for (const [fn, data] of kitCalls) kitRows.push({ fn, gas: await measure(m.hvm.bitcoinKit, data) });
    printTable(
      "BitcoinKit calls (from a contract, precompiles at 0x40..0x46; current layout)",
      ["function", "gas"],
      kitRows.map((r) => [r.fn, r.gas.toString()]),
    );
    const file = writeBenchResult("hvm", {
      indexBlock: rows.map((r) => ({ ...r, gas: r.gas.toString(), gasPerTx: r.gasPerTx.toString() })),
      fanOutBlockGas: fanBlock.gas.toString(),
      indexTxGas: receipt.gasUsed.toString(),
      precompiles: pre.map((r) => ({ ...r, ours: r.ours.toString() })),
      bitcoinKit: kitRows.map((r) => ({ fn: r.fn, gas: r.gas.toString() })),
    });
    console.log(`\nwrote ${file}`);
  } finally {
    await m.t.running.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
