import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withRetries } from '../../lib/retry.ts';

/** A function that fails (as a query does while PostgreSQL restarts) until `ms` have passed. */
function downFor(ms: number) {
  const back = Date.now() + ms;
  let calls = 0;
  const fn = async () => {
    calls++;
    if (Date.now() < back) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    return 'recorded';
  };
  return { fn, calls: () => calls };
}

describe('withRetries (the record after an email was sent)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('outlasts a database restart of several seconds: the record is written, not given up after a moment', async () => {
    const { fn } = downFor(8_000);
    const result = withRetries(fn);
    await vi.advanceTimersByTimeAsync(12_000);
    await expect(result).resolves.toBe('recorded');
  });

  it('gives up once the window has passed', async () => {
    const { fn, calls } = downFor(Number.POSITIVE_INFINITY);
    const result = withRetries(fn, { forMs: 5_000 });
    const settled = expect(result).rejects.toThrow('ECONNREFUSED');
    await vi.advanceTimersByTimeAsync(7_000);
    await settled;
    // Backing off: a few tries, not a busy loop.
    expect(calls()).toBeLessThan(15);
  });

  it('returns at once when the first try succeeds', async () => {
    await expect(withRetries(async () => 1)).resolves.toBe(1);
  });
});
