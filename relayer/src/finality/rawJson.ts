/**
 * Splits a JSON array's text into the raw text of its top-level elements, byte for byte (whitespace around
 * elements dropped), so that a proxy can forward and return the elements it does not touch unchanged.
 */

/** The raw text of each top-level element of the JSON array `text`; throws when `text` is not an array. */
export function splitJsonArray(text: string): string[] {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
  };
  ws();
  if (text[i] !== "[") throw new Error("not a JSON array");
  i++;
  const out: string[] = [];
  ws();
  if (text[i] === "]") return expectEnd(text, i + 1, out);
  for (;;) {
    ws();
    const start = i;
    let depth = 0;
    let inString = false;
    for (; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === "\\") i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === "[" || c === "{") depth++;
      else if (c === "]" || c === "}") {
        if (depth === 0) break;
        depth--;
      } else if (c === "," && depth === 0) break;
    }
    if (i >= text.length) throw new Error("unterminated JSON array");
    out.push(text.slice(start, i).trimEnd());
    if (text[i] === "]") return expectEnd(text, i + 1, out);
    i++; // the comma
  }
}

function expectEnd(text: string, i: number, out: string[]): string[] {
  if (text.slice(i).trim() !== "") throw new Error("text after the JSON array");
  return out;
}
