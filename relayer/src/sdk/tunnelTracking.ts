/** Following a deposit or a withdrawal: the poll loop shared by trackDeposit and trackWithdrawal. */
import { isTransient, sleep, type TunnelContext } from "./tunnelContext";
import { TrackTimeoutError } from "./errors";
import type { TrackOptions } from "./tunnelTypes";

/**
 * Polls `read` until `done`, calling `opts.onUpdate` whenever `key` of the state changes; a transient node error
 * does not end it; TrackTimeoutError after `opts.timeoutMs` (default 10 minutes).
 */
export async function track<S>(
  ctx: TunnelContext,
  what: string,
  read: () => Promise<S>,
  key: (s: S) => string,
  done: (s: S) => boolean,
  opts: TrackOptions<S>,
): Promise<S> {
  const timeoutMs = opts.timeoutMs ?? 600_000;
  const deadline = Date.now() + timeoutMs;
  let last: S | undefined;
  let lastKey = "";
  for (;;) {
    let s: S;
    try {
      s = await read();
    } catch (err) {
      // A node that is briefly unreachable does not end the tracking; anything else does.
      if (!isTransient(err) || Date.now() >= deadline) throw err;
      await sleep(Math.min(ctx.pollMs * 2, Math.max(0, deadline - Date.now())));
      continue;
    }
    const k = key(s);
    if (k !== lastKey) {
      lastKey = k;
      opts.onUpdate?.(s);
    }
    last = s;
    if (done(s)) return s;
    if (Date.now() >= deadline) throw new TrackTimeoutError(what, timeoutMs, last);
    await sleep(Math.min(ctx.pollMs, Math.max(0, deadline - Date.now())));
  }
}
