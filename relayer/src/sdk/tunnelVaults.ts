/** The SDK's vault directory: vaults with their custody scripts (from VaultCreated events) and addresses. */
import { toVaultInfo } from "./abi";
import { scriptHexToAddress } from "./addresses";
import { eventArgs, type TunnelContext, type VaultView } from "./tunnelContext";

/** Reads vaults; custody scripts are read from VaultCreated events once and then incrementally. */
export class TunnelVaults {
  private scripts = new Map<number, string>();
  private scriptsScannedTo = -1;

  constructor(private readonly ctx: Omit<TunnelContext, "vault" | "vaults" | "vaultOfScriptMap">) {}

  /** Custody scripts by vault id, from VaultCreated events (new events are read on each call). */
  async custodyScripts(): Promise<Map<number, string>> {
    const latest = await this.ctx.provider.getBlockNumber();
    if (latest > this.scriptsScannedTo) {
      const from = Math.max(this.ctx.fromBlock, this.scriptsScannedTo + 1);
      const logs = await this.ctx.tunnel.queryFilter(this.ctx.tunnel.filters.VaultCreated(), from, latest);
      for (const l of logs) {
        const a = eventArgs(l);
        this.scripts.set(Number(a.vaultId as bigint), (a.custodyScript as string).slice(2).toLowerCase());
      }
      this.scriptsScannedTo = latest;
    }
    return this.scripts;
  }

  /** Vault ids by custody script hex. */
  async vaultOfScriptMap(): Promise<Map<string, number>> {
    const m = new Map<string, number>();
    for (const [id, s] of await this.custodyScripts()) m.set(s, id);
    return m;
  }

  /** One vault with its custody script and address. */
  async vault(id: number): Promise<VaultView> {
    return this.vaultWith(id, await this.custodyScripts());
  }

  private async vaultWith(id: number, scripts: Map<number, string>): Promise<VaultView> {
    const raw = await this.ctx.tunnel.vault(id);
    const script = scripts.get(id);
    if (script === undefined) throw new Error(`vault ${id} does not exist (the tunnel has no VaultCreated for it)`);
    const v = toVaultInfo(id, raw, script);
    return { ...v, address: scriptHexToAddress(script, this.ctx.network) };
  }

  /** Every vault, by id (the VaultCreated events are read once for all of them). */
  async vaults(): Promise<VaultView[]> {
    const count = Number((await this.ctx.tunnel.vaultCount()) as bigint);
    const scripts = await this.custodyScripts();
    const out: VaultView[] = [];
    for (let id = 1; id <= count; id++) out.push(await this.vaultWith(id, scripts));
    return out;
  }
}
