/**
 * Installs the emulators' runtime code (immutables included) at Hemi's precompile addresses 0x40..0x49 on a
 * development chain: `hardhat_setCode` (Hardhat) or `anvil_setCode` (anvil). Other chains have neither; the
 * emulators then stay ordinary contracts at their own addresses.
 */
import { PRECOMPILES, type PrecompileKey } from "./precompiles";

/** The JSON-RPC access this needs (ethers' JsonRpcProvider and Hardhat's provider have it). */
export interface EvmRpc {
  send(method: string, params: unknown[]): Promise<unknown>;
}

export type SetCodeMethod = "hardhat_setCode" | "anvil_setCode";

/** Which set-code method the node answers, or null when it has none (probed with a harmless no-op). */
export async function detectSetCode(rpc: EvmRpc): Promise<SetCodeMethod | null> {
  // Setting the current code of 0x…00 to itself changes nothing.
  const probe = "0x" + "00".repeat(20);
  const code = (await rpc.send("eth_getCode", [probe, "latest"])) as string;
  for (const method of ["hardhat_setCode", "anvil_setCode"] as const) {
    try {
      await rpc.send(method, [probe, code]);
      return method;
    } catch {
      // not this node kind
    }
  }
  return null;
}

/**
 * Copies each emulator's runtime code to its precompile address and checks it landed. Returns the method used,
 * or null (nothing installed) when the node has no set-code method.
 */
export async function installHvmPrecompiles(
  rpc: EvmRpc,
  deployment: { emulators: Record<PrecompileKey, string> },
): Promise<SetCodeMethod | null> {
  const method = await detectSetCode(rpc);
  if (method === null) return null;
  for (const p of PRECOMPILES) {
    const code = (await rpc.send("eth_getCode", [deployment.emulators[p.key], "latest"])) as string;
    if (code === "0x")
      throw new Error(`emulator ${p.emulator} for ${p.key} has no code at ${deployment.emulators[p.key]}`);
    await rpc.send(method, [p.address, code]);
    const installed = (await rpc.send("eth_getCode", [p.address, "latest"])) as string;
    if (installed.toLowerCase() !== code.toLowerCase())
      throw new Error(`${method} did not install ${p.emulator} at ${p.address}`);
  }
  return method;
}
