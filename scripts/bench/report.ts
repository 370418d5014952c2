import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import os from "node:os";

/** Writes a benchmark's results to bench/results/<name>.json (with the machine it ran on) and returns the path. */
export function writeBenchResult(name: string, results: Record<string, unknown>): string {
  const dir = path.join(__dirname, "..", "..", "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  const doc = {
    benchmark: name,
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
    },
    ...results,
  };
  writeFileSync(file, JSON.stringify(doc, null, 2) + "\n");
  return file;
}

/** Prints rows as an aligned text table (also valid Markdown). */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => "| " + r.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  console.log(`\n${title}\n`);
  console.log(line(cells[0]));
  console.log("| " + widths.map((w) => "-".repeat(w)).join(" | ") + " |");
  for (const r of cells.slice(1)) console.log(line(r));
}
