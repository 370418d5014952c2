/** A JSON-RPC error a Hemi method answers with (geth's codes: -32000 for a method's error, -32602 bad params). */
export class HemiRpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = "HemiRpcError";
  }
}
