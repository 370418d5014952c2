import type { Interface, Log } from "ethers";

/** One decoded event of a contract. */
export interface ParsedEvent {
  name: string;
  args: Record<string, unknown>;
}

/** Decodes the events that `contract` (at `address`) emitted among receipt logs; other logs are skipped. */
export function parseContractEvents(
  contract: { interface: Interface },
  address: string,
  logs: readonly Log[],
): ParsedEvent[] {
  const out: ParsedEvent[] = [];
  for (const l of logs) {
    if (l.address.toLowerCase() !== address.toLowerCase()) continue;
    const parsed = contract.interface.parseLog({ topics: [...l.topics], data: l.data });
    if (parsed !== null) out.push({ name: parsed.name, args: parsed.args.toObject() });
  }
  return out;
}
