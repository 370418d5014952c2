/**
 * Every custom error of every compiled contract of the project decodes to its name (issue 11, item 12: a revert
 * such as UnsupportedWithdrawalScript must never come out as raw data), whichever contract or library raised it.
 */
import { expect } from "chai";
import { ErrorFragment, Interface, ParamType, ZeroAddress } from "ethers";
import { allContractErrors, RevertDecoder } from "../../relayer/src/evm/revertDecoder";

/** A value of `t` to encode (zeros, empty bytes, short arrays). */
function sample(t: ParamType): unknown {
  if (t.isArray())
    return t.arrayLength === -1 ? [] : Array.from({ length: t.arrayLength }, () => sample(t.arrayChildren));
  if (t.isTuple()) return t.components.map(sample);
  if (t.baseType === "address") return ZeroAddress;
  if (t.baseType === "bool") return false;
  if (t.baseType === "string") return "";
  if (t.baseType === "bytes") return "0x1234";
  if (t.baseType.startsWith("bytes")) return "0x" + "00".repeat(Number(t.baseType.slice(5)));
  return 7n;
}

describe("relayer revert decoder: every contract's custom errors", () => {
  const errors = allContractErrors();

  it("finds the custom errors of the project's contracts and libraries and of OpenZeppelin", () => {
    const names = new Set(errors.map((e) => e.name));
    for (const n of [
      "UnsupportedWithdrawalScript", // the tunnel's withdrawal module
      "DepositBelowMinimum",
      "MissingOpReturn",
      "EnforcedPause", // OpenZeppelin Pausable
      "AccessControlUnauthorizedAccount", // OpenZeppelin AccessControl
      "ERC20InsufficientBalance", // OpenZeppelin ERC20
    ]) {
      expect(names.has(n), n).to.equal(true);
    }
    expect(errors.length).to.be.above(40);
  });

  it("decodes every one of them to its name and arguments", () => {
    const decoder = RevertDecoder.withAllContractErrors();
    for (const frag of errors) {
      const data = new Interface([frag]).encodeErrorResult(frag, frag.inputs.map(sample));
      const d = decoder.decode(data);
      expect(d?.name, frag.format()).to.equal(frag.name);
      expect(d?.args.length).to.equal(frag.inputs.length);
    }
  });

  it("names an error no contract has as unknown, with its selector", () => {
    const frag = ErrorFragment.from("error NotOurs(uint256)");
    const data = new Interface([frag]).encodeErrorResult(frag, [1n]);
    expect(RevertDecoder.withAllContractErrors().decode(data)?.text).to.match(/^unknown error 0x[0-9a-f]{8}/);
  });
});
