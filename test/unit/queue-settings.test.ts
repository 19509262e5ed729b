import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.ts';
import { workerSettings } from '../../lib/queues/names.ts';

describe('worker settings', () => {
  it('puts the send rate limit on the mail queue, and the transactional one on its own queue', () => {
    const config = loadConfig({
      SEND_RATE_PER_SECOND: '25',
      TRANSACTIONAL_SEND_RATE_PER_SECOND: '7',
      MAIL_CONCURRENCY: '30',
      WORKER_CONCURRENCY: '4',
    });
    expect(workerSettings('mail', config)).toEqual({ concurrency: 30, limiter: { max: 25, duration: 1000 } });
    expect(workerSettings('transactional-mail', config)).toEqual({
      concurrency: 30,
      limiter: { max: 7, duration: 1000 },
    });
    expect(workerSettings('campaigns', config)).toEqual({ concurrency: 4 });
  });

  it('has no limiter when the rate is 0', () => {
    expect(workerSettings('mail', loadConfig({ SEND_RATE_PER_SECOND: '0' })).limiter).toBeUndefined();
    const transactional = loadConfig({ TRANSACTIONAL_SEND_RATE_PER_SECOND: '0' });
    expect(workerSettings('transactional-mail', transactional).limiter).toBeUndefined();
  });
});
