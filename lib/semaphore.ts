/**
 * Runs tasks with at most `max` at once, the others waiting in arrival order: the send
 * pipeline's turns for the end of data (lib/mailer.ts) and its emails in flight
 * (services/campaigns/send-chunk.ts).
 */
export function semaphore(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
