/**
 * Error classes that tell the queue core whether a failed job may succeed on retry.
 * Transient: network trouble, a busy lock, state that another job is about to produce. Permanent: retrying
 * cannot help (a contract rejects the data, a malformed job); the job is failed at once with the reason.
 */

/** Retrying cannot help: the job goes straight to the failed set with this message as its reason. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentError";
  }
}

/** The job was interrupted by a shutdown before its irreversible step; another worker will take it. */
export class ShutdownError extends Error {
  constructor(what = "job") {
    super(`${what} released: the relayer is shutting down`);
    this.name = "ShutdownError";
  }
}

/** True for errors that must not be retried. */
export function isPermanent(err: unknown): boolean {
  return err instanceof PermanentError;
}
