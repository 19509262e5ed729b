import { expect, it } from 'vitest';
import { chaosWorld, copiesFor, recipientAsTold, recordCampaign, report, tally, waitUntilSent } from './harness.ts';

const kind = (address: string) => Number(/^smtp-(\d+)@/.exec(address)?.[1] ?? -1) % 5;
/** One recipient of kind 3 whose connection is dropped after DATA on every attempt. */
const ALWAYS_DROPPED = 'smtp-3@client.example';
const world = chaosWorld({
  sink: {
    // Recipient i: 0 → 421 once, 1 → 451 once, 2 → 550 always, 3 → connection dropped after DATA once, 4 → fine;
    // and ALWAYS_DROPPED, dropped after DATA on every attempt.
    rule: (address, attempt) => {
      const k = kind(address);
      if (k === 0 && attempt === 1) return { code: 421, message: '4.7.0 Throttled, slow down' };
      if (k === 1 && attempt === 1) return { code: 451, message: '4.3.0 Temporary local problem' };
      if (k === 2) return { code: 550, message: '5.1.1 Mailbox unavailable' };
      return undefined;
    },
    dataRule: (to, attempt) => (to === ALWAYS_DROPPED || (kind(to) === 3 && attempt === 1) ? 'drop' : undefined),
  },
});

it('SMTP faults: 421 and 451 retried, 550 failed with the reply, a dropped connection after DATA resent once, and only once when every attempt drops', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const { campaignId, emails, token } = await recordCampaign(stack, 200, 'smtp');
  world.worker();
  const counts = await waitUntilSent(stack, campaignId, 120_000);
  const deliverable = emails.filter((e) => kind(e) !== 2);
  const t = tally(sink, deliverable);
  const always = await recipientAsTold(stack, token, campaignId, ALWAYS_DROPPED);
  const alwaysCopies = copiesFor(sink, ALWAYS_DROPPED);
  report(
    `SMTP 421/451/550/drop after DATA (once; 1 on every attempt: ${alwaysCopies} copies, ${always.state}${always.assumed ? ' assumed' : ''}), 200 recipients`,
    t,
    started,
  );

  expect(counts).toMatchObject({ offered: 160, failed: 40 });
  const failed = await stack.deps
    .sql`select recipient_email, smtp_reply from delegations where campaign_id = ${campaignId} and state = 'failed'`;
  expect(failed.every((r) => kind(r.recipient_email as string) === 2 && String(r.smtp_reply).startsWith('550'))).toBe(
    true,
  );
  expect(t.lost).toBe(0);
  // Only a dropped connection after the data can duplicate: the server kept the message but
  // never said so. Each such recipient is resent once, with the same Message-ID.
  const dropped = deliverable.filter((e) => kind(e) === 3);
  expect(t.duplicates).toBeLessThanOrEqual(dropped.length);
  for (const email of dropped) {
    const ids = new Set(sink.messages.filter((m) => m.to.includes(email)).map((m) => m.messageId));
    expect(ids.size).toBe(1);
  }
  // Every attempt dropped after DATA: two interrupted sends, then no third (ADR 5, 26) —
  // recorded offered on assumption, since the server kept each copy.
  expect(alwaysCopies).toBeGreaterThanOrEqual(1);
  expect(alwaysCopies).toBeLessThanOrEqual(2);
  expect(always.state).toBe('offered');
  expect(always.assumed).toBe(true);
});
