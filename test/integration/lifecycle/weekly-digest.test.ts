import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastWholeWeekStart, weekName } from '../../../core/weekly-digest.ts';
import { sendWeeklyDigests } from '../../../services/maintenance/weekly-digest.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { createTestPartner } from '../../helpers/factories.ts';
import { createClientAdmin } from '../../helpers/offer-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The weekly digest: each client organization's global admins are told, once a week, what
 * partners did in their organization the week before — counted from what the SMTP server
 * received; an organization that turned it off on its page gets nothing.
 */
let stack: TestStack;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url }, workers: true });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

async function partnerAction(orgId: string, partnerId: string, action: string, outcome: string, at: Date) {
  await stack.deps
    .sql`insert into audit_events (partner_id, org_id, action, target_type, target_id, outcome, created_at)
    values (${partnerId}, ${orgId}, ${action}, 'user', 'usr_x', ${outcome}, ${at.toISOString()})`;
}

const digestsTo = (to: string) =>
  sink.messages.filter((m) => m.to.includes(to.toLowerCase()) && /^What partners did/.test(m.subject ?? ''));

describe('the weekly digest of partner actions', () => {
  it('tells each organization’s admins once what partners did last week; an organization that turned it off gets nothing', async () => {
    // A week of its own (the workers' lifecycle passes have already taken this real week's).
    const now = new Date('2031-01-08T12:00:00Z');
    const start = lastWholeWeekStart(now);
    const inWeek = new Date(start.getTime() + 36 * 3600_000);
    const partner = await createTestPartner(stack, 'Northwind IT');
    const told = await createClientAdmin(stack, 'Contoso');
    const quiet = await createClientAdmin(stack, 'Fabrikam');

    // Fabrikam's admin turns the weekly email off on their organization's page.
    const browser = new PageClient(stack, '10.66.0.1');
    await browser.get('/sign-in');
    await browser.post('/sign-in', {
      email: quiet.email,
      password: 'correct horse battery staple',
      next: '/org/security',
    });
    expect((await browser.get('/org/security')).html).toContain('data-testid="weekly-digest">On');
    expect((await browser.post('/org/digest', { digest: 'off' })).location).toBe('/org/security?saved=1');

    for (const org of [told.orgId, quiet.orgId]) {
      await partnerAction(org, partner.partnerId, 'operation.reset_password', 'succeeded', inWeek);
      await partnerAction(org, partner.partnerId, 'operation.reset_password', 'rejected', inWeek);
      await partnerAction(org, partner.partnerId, 'operation.add_domain', 'succeeded', inWeek);
      await partnerAction(org, partner.partnerId, 'operation.add_domain', 'succeeded', now); // the running week: not yet
    }

    const first = await sendWeeklyDigests(stack.deps, now);
    const again = await sendWeeklyDigests(stack.deps, now);
    expect(again).toBe(0);
    expect(first).toBe(1); // Contoso has one global admin; Fabrikam turned it off

    const deadline = Date.now() + 20_000;
    while (digestsTo(told.email).length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    const mails = digestsTo(told.email);
    expect(mails.map((m) => m.subject)).toEqual([`What partners did in Contoso in the week of ${weekName(start)}`]);
    expect(mails[0]?.text).toContain('Northwind IT: Add a domain ×1; Reset a password ×2 (1 refused).');
    expect(digestsTo(quiet.email)).toEqual([]);
  });
});
