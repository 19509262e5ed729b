import { afterAll, expect, it } from 'vitest';
import { type BouncingRelay, startBouncingRelay } from '../helpers/bouncing-relay.ts';
import { waitFor } from '../helpers/factories.ts';
import { freePort } from '../helpers/processes.ts';
import { chaosWorld, recordCampaign, report, waitUntilSent } from './harness.ts';

const refused = (address: string) => /^bounce-\d*7@/.test(address);
// The final server behind the relay: it refuses one recipient in ten, for good.
const world = chaosWorld({
  sink: { rule: (address) => (refused(address) ? { code: 550, message: '5.1.1 <mailbox> User unknown' } : undefined) },
});
let relay: BouncingRelay | undefined;
afterAll(async () => {
  await relay?.close();
});

it('bounces while the listener is down, then kill -9 of the worker receiving them: every permanent bounce recorded once', async () => {
  const { stack, sink } = world;
  const started = Date.now();
  const listenerPort = await freePort();
  relay = await startBouncingRelay({ finalServer: sink.url, bounceTo: () => listenerPort, retryMs: 100 });
  const bounces = { MAIL_BOUNCE_DOMAIN: 'bounces.mandate.test', SMTP_URL: relay.url };
  const { campaignId, emails, token } = await recordCampaign(stack, 1000, 'bounce');
  const expected = emails.filter(refused);

  // The campaign goes out through the relay with no listener anywhere: every report the
  // relay writes is refused at the connection and waits in its queue.
  const sender = world.worker(bounces);
  await waitUntilSent(stack, campaignId, 120_000);
  await waitFor(async () => relay?.reports.length === expected.length && relay.forwarding === 0, 60_000);
  await waitFor(async () => relay?.reports.every((r) => r.attempts >= 2), 10_000);
  await sender.stop('SIGKILL');

  // The listener comes up; the worker running it is killed while the reports pour in.
  const listener = { ...bounces, BOUNCE_SMTP_PORT: String(listenerPort), BOUNCE_SMTP_HOST: '127.0.0.1' };
  const first = world.worker(listener);
  await waitFor(async () => ((relay?.reports.filter((r) => r.delivered).length ?? 0) >= 5 ? true : undefined), 60_000);
  await first.stop('SIGKILL');
  const deliveredAtKill = relay.reports.filter((r) => r.delivered).length;
  world.worker(listener);
  await waitFor(async () => relay?.reports.every((r) => r.delivered), 60_000);

  // Counted from what the API answers for each delegation.
  const rows = await stack.deps.sql`select id, recipient_email from delegations where campaign_id = ${campaignId}`;
  let recorded = 0;
  let duplicates = 0;
  let wrong = 0;
  for (const row of rows) {
    const response = await stack.request(`/v1/delegations/${row.id}`, { token });
    const d = (await response.json()) as { state: string; smtpReply: string | null; events: { event: string }[] };
    const bounced = d.events.filter((e) => e.event === 'bounced').length;
    if (refused(row.recipient_email as string)) {
      if (bounced >= 1 && d.state === 'failed' && d.smtpReply === '550 5.1.1 <mailbox> User unknown') recorded++;
      duplicates += Math.max(0, bounced - 1);
    } else if (bounced > 0 || d.state !== 'offered') {
      wrong++;
    }
  }
  const kept = await stack.deps.sql`select count(*)::int as n from delegation_bounces d
    join delegations g on g.id = d.delegation_id where g.campaign_id = ${campaignId}`;
  const t = { asked: expected.length, delivered: recorded, duplicates, lost: expected.length - recorded };
  report(
    `bounce listener down, then kill -9 while receiving (${deliveredAtKill} of ${expected.length} in before the kill), 1000 recipients`,
    t,
    started,
  );
  expect(relay.reports.map((r) => r.recipient).sort()).toEqual(expected.sort());
  expect(t.lost).toBe(0);
  expect(t.duplicates).toBe(0);
  expect(wrong).toBe(0);
  expect(kept[0]?.n).toBe(expected.length);
});
