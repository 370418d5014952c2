import { expect } from "chai";
import { lineSplitter } from "./helpers/relayerProcess";

describe("relayer test helper: log line splitter", function () {
  it("delivers every line once, whole, however the stream is chunked (including mid-line and mid-character)", function () {
    const lines = [
      JSON.stringify({ msg: "relayer started", n: 1 }),
      JSON.stringify({ msg: "deposits confirmed — ünïcode", n: 2 }),
      "",
      JSON.stringify({ msg: "last line without a newline", n: 3 }),
    ];
    const bytes = Buffer.from(lines.join("\n"));
    for (let size = 1; size <= bytes.length; size += 7) {
      const got: string[] = [];
      const split = lineSplitter((l) => got.push(l));
      for (let i = 0; i < bytes.length; i += size) split.push(bytes.subarray(i, i + size));
      split.end();
      expect(got, `chunks of ${size} bytes`).to.deep.equal(lines);
    }
  });
});
