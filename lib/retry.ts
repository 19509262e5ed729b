/** How long {@link withRetries} keeps trying by default: a PostgreSQL restart, crash recovery included. */
export const RECORD_RETRY_MS = 20_000;

/**
 * Runs `fn` until it succeeds or `forMs` (default {@link RECORD_RETRY_MS}) have passed,
 * waiting 100 ms, 200 ms… (at most 2 s) between tries. For the write that records an
 * effect already out — an email the SMTP server took: a database error that passes within
 * the window must not send the job back to do it again. The window is long enough to
 * outlast a server restart because the sender holds its turn meanwhile (Mailer.sendAndRecord):
 * given up after a moment, each message waiting for the turn would go out in its turn,
 * fail its record the same way, and be sent again by its retry.
 */
export async function withRetries<T>(fn: () => Promise<T>, options: { forMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (options.forMs ?? RECORD_RETRY_MS);
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      const wait = Math.min(2_000, 100 * 2 ** (attempt - 1));
      if (Date.now() + wait > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** `fn`'s result, or an error once `ms` pass without one (the work itself is not cancelled). */
export async function withTimeout<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      fn(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `fn` until it succeeds, waiting 100 ms, 200 ms… up to 5 s between tries, and
 * telling `onError` of each failure. For the record of an email the server has taken:
 * while it cannot be written, the sender keeps its turn, so no other message ends its
 * data (lib/mailer.ts) — the bound on delivered-but-unrecorded messages holds however
 * long PostgreSQL is away.
 */
export async function untilDone<T>(fn: () => Promise<T>, onError: (error: unknown) => void): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      onError(error);
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** (attempt - 1))));
    }
  }
}
