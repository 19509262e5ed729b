import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMailer } from '../../../lib/mailer.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';

let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
});
afterAll(() => sink.close());

/** Sends `n` messages at once; returns the most records seen running together. */
async function peakUnconfirmed(max: number, n: number): Promise<number> {
  const mailer = createMailer({
    smtpUrl: sink.url,
    smtpPoolSize: 5,
    mailFrom: 'Mandate <no-reply@test.example>',
    mailUnconfirmedMax: max,
  });
  let running = 0;
  let peak = 0;
  try {
    await Promise.all(
      Array.from({ length: n }, (_, i) =>
        mailer.sendAndRecord(
          {
            to: `turn${max}-${i}@client.example`,
            subject: 's',
            text: 't',
            html: '<p>t</p>',
            messageId: `<t${max}.${i}@test.example>`,
          },
          async () => {
            running++;
            peak = Math.max(peak, running);
            await new Promise((r) => setTimeout(r, 15));
            running--;
          },
        ),
      ),
    );
  } finally {
    mailer.close();
  }
  return peak;
}

describe('Mailer.sendAndRecord', () => {
  it('lets one message at a time be delivered-but-unrecorded at K = 1', async () => {
    expect(await peakUnconfirmed(1, 12)).toBe(1);
  });

  it('lets up to MAIL_UNCONFIRMED_MAX at a time when configured so', async () => {
    const peak = await peakUnconfirmed(3, 12);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('delivers every message with the Message-ID and sender it was given', async () => {
    const before = sink.messages.length;
    await peakUnconfirmed(1, 3);
    const sent = sink.messages.slice(before);
    expect(sent.map((m) => m.messageId).sort()).toEqual([
      '<t1.0@test.example>',
      '<t1.1@test.example>',
      '<t1.2@test.example>',
    ]);
    expect(sent.every((m) => m.from === 'no-reply@test.example')).toBe(true);
  });

  it('abandons a message whose in-doubt mark cannot be written: the server never gets it', async () => {
    const mailer = createMailer({
      smtpUrl: sink.url,
      smtpPoolSize: 2,
      mailFrom: 'Mandate <no-reply@test.example>',
      mailUnconfirmedMax: 1,
    });
    const email = (i: number) => ({
      to: `mark${i}@client.example`,
      subject: 's',
      text: 't',
      html: '<p>t</p>',
      messageId: `<mark.${i}@test.example>`,
    });
    try {
      const results = await Promise.allSettled(
        [0, 1, 2, 3].map((i) =>
          mailer.sendAndRecord(email(i), async () => 'recorded', {
            markInDoubt: async () => {
              if (i % 2 === 0) throw new Error('the database is away');
            },
          }),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'rejected', 'fulfilled']);
      await new Promise((r) => setTimeout(r, 300));
      const got = sink.messages.map((m) => m.messageId).filter((id) => id?.startsWith('<mark.'));
      expect(got.sort()).toEqual(['<mark.1@test.example>', '<mark.3@test.example>']);
    } finally {
      mailer.close();
    }
  });
});
