import { describe, expect, it } from 'vitest';
import { transportLines } from '../../lib/dev/first-run.ts';

describe("the start banner's queues and mail lines", () => {
  it('names Redis with its address, and the SMTP server, passwords left out', () => {
    const lines = transportLines({
      queueBackend: 'redis',
      redisUrl: 'redis://:s3cret@127.0.0.1:6379',
      smtpUrl: 'smtp://mandate:hunter2@mail.example:587',
    });
    expect(lines).toEqual([
      '  Queues         Redis at redis://:***@127.0.0.1:6379',
      '  Mail           sent through SMTP at smtp://mandate:***@mail.example:587',
    ]);
  });

  it('says when the queues run on PostgreSQL and the mail stays in the dev mailbox', () => {
    const [queues, mail] = transportLines({
      queueBackend: 'postgres',
      redisUrl: 'redis://127.0.0.1:6379',
      smtpUrl: undefined,
    });
    expect(queues).toMatch(/Queues +PostgreSQL/);
    expect(mail).toMatch(/Mail +kept in the dev mailbox, not sent/);
  });
});
