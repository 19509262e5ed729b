/**
 * Runs `fn` up to `attempts` times, waiting 100 ms, 200 ms… between tries. For the write
 * that records an email as sent: after the SMTP server took the message, a passing
 * database error must not send the job back to send it again.
 */
export async function withRetries<T>(fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** (attempt - 1)));
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
