import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permanentSendFailures } from '../../../core/send-failures.ts';
import { recentCampaigns } from '../../../services/dashboard/dashboard.ts';
import { applyTransition, systemActor } from '../../../services/delegations/transitions.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { createStaffMember, signedInClient } from '../../helpers/dashboard.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { activateDelegation, createClientAdmin, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let owner: Awaited<ReturnType<typeof createTestPartner>>;
let campaignId: string;
const failedIds: string[] = [];

/** A campaign of five; three of them failed for good with the server's reply recorded. */
async function campaignWithFailures(token: string, offerId: string): Promise<string> {
  const recipients = [
    { email: 'ok1@client.example', company: 'Contoso' },
    { email: 'ok2@client.example', company: '=HYPERLINK("http://evil.example","x")' },
    { email: 'bad1@client.example', name: '<script>alert(1)</script>', company: 'Fabrikam' },
    { email: 'bad2@client.example' },
    { email: 'bad3@client.example' },
  ];
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token,
    json: { offerId, name: 'Spring <b>rollout</b>', recipients },
  });
  const { id } = (await response.json()) as { id: string };
  const rows = await stack.deps.sql`select id, recipient_email from delegations where campaign_id = ${id} order by id`;
  for (const row of rows) {
    const email = row.recipient_email as string;
    const failed = email.startsWith('bad');
    await applyTransition(stack.deps.db, {
      delegationId: row.id as string,
      from: 'invited',
      event: failed ? 'send_failed' : 'send_succeeded',
      actor: systemActor,
      set: failed
        ? {
            smtpReply: `550 5.1.1 <${email}>: mailbox unavailable`,
            failureReason: permanentSendFailures.refused,
            sendAttempts: 1,
          }
        : { offeredAt: new Date(), sendAttempts: 1 },
    });
    if (failed) failedIds.push(row.id as string);
  }
  return id;
}

beforeAll(async () => {
  stack = await createTestStack();
  owner = await createTestPartner(stack, 'Northwind');
  const offer = await createTestOffer(stack, owner.token);
  campaignId = await campaignWithFailures(owner.token, offer.id);
});
afterAll(() => stack.close());

describe('who may open the dashboard', () => {
  it('sends an anonymous visitor to the sign-in page and back', async () => {
    const response = await new PageClient(stack).get('/dashboard/campaigns?state=failed');
    expect(response.status).toBe(303);
    expect(response.response.headers.get('location')).toBe(
      `/sign-in?next=${encodeURIComponent('/dashboard/campaigns?state=failed')}`,
    );
  });

  it('signs a partner owner in through the form and lands on the dashboard', async () => {
    const browser = new PageClient(stack);
    await browser.get('/sign-in');
    const signedIn = await browser.post('/sign-in', { email: owner.email, password: owner.password });
    expect(signedIn.status).toBe(303);
    expect(signedIn.location).toBe('/');
    const front = await browser.get('/');
    expect(front.response.headers.get('location')).toBe('/dashboard');
    const page = await browser.get('/dashboard');
    expect(page.status).toBe(200);
    expect(page.html).toContain('Offer emails sent per minute');
    expect(page.response.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('refuses a client user with 403', async () => {
    const admin = await createClientAdmin(stack);
    const browser = await signedInClient(stack, admin.userId);
    const page = await browser.get('/dashboard');
    expect(page.status).toBe(403);
    expect(page.html).toContain('for the staff of a partner');
    expect((await browser.get('/')).response.headers.get('location')).toBe('/org/delegations');
  });

  it('shows staff management to owners only', async () => {
    const limited = await createStaffMember(stack, owner.token, 'limited');
    const browser = await signedInClient(stack, limited.userId);
    expect((await browser.get('/dashboard/staff')).status).toBe(403);
    expect((await browser.get('/dashboard')).html).not.toContain('href="/dashboard/staff"');
    const ownerBrowser = await signedInClient(stack, owner.userId);
    const staffPage = await ownerBrowser.get('/dashboard/staff');
    expect(staffPage.status).toBe(200);
    expect(staffPage.html).toContain(limited.email);
  });

  it('never shows another partner’s campaign', async () => {
    const other = await createTestPartner(stack, 'Other');
    const browser = await signedInClient(stack, other.userId);
    expect((await browser.get(`/dashboard/campaigns/${campaignId}`)).status).toBe(404);
    expect((await browser.get(`/dashboard/campaigns/${campaignId}/recipients.csv`)).status).toBe(404);
    const list = await browser.get('/dashboard/campaigns');
    expect(list.html).not.toContain(campaignId);
  });
});

describe('a campaign with failed recipients', () => {
  it('shows counts, the failed recipients and the server’s reply, escaped', async () => {
    const browser = await signedInClient(stack, owner.userId);
    const page = await browser.get(`/dashboard/campaigns/${campaignId}?state=failed`);
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/data-state="failed"[^>]*>.*?<span class="n">3<\/span>/s);
    expect(page.html).toMatch(/data-state="offered"[^>]*>.*?<span class="n">2<\/span>/s);
    expect(page.html).toContain('550 5.1.1 &lt;bad1@client.example&gt;: mailbox unavailable');
    expect(page.html).toContain('Spring &lt;b&gt;rollout&lt;/b&gt;');
    expect(page.html).not.toContain('<script>alert(1)</script>');
    expect(page.html).toContain('Retry all failed sends');
    expect(page.html).toContain('Done');
  });

  it('exports the failed recipients as CSV, formulas neutralised', async () => {
    const browser = await signedInClient(stack, owner.userId);
    const failed = await browser.get(`/dashboard/campaigns/${campaignId}/recipients.csv?state=failed`);
    expect(failed.status).toBe(200);
    expect(failed.response.headers.get('content-type')).toContain('text/csv');
    const lines = failed.html.trim().split('\r\n');
    expect(lines[0]).toBe('email,name,company,state,attempts,smtp_reply,failure_reason,offered_at,delegation_id');
    expect(lines).toHaveLength(4);
    expect(lines.slice(1).every((l) => l.startsWith('bad'))).toBe(true);
    const all = await browser.get(`/dashboard/campaigns/${campaignId}/recipients.csv`);
    expect(all.html).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
  });

  it('refuses a retry without the CSRF token and changes nothing', async () => {
    const browser = await signedInClient(stack, owner.userId);
    const result = await browser.post(`/dashboard/campaigns/${campaignId}/retry`, {}, 'x'.repeat(43));
    expect(result.status).toBe(403);
    const [row] = await stack.deps
      .sql`select count(*)::int as n from delegations where campaign_id = ${campaignId} and state = 'failed'`;
    expect(row?.n).toBe(3);
  });

  it('retries one failed recipient, then the rest once asked to include permanent refusals; a repeat retries nothing', async () => {
    const browser = await signedInClient(stack, owner.userId);
    // As the row's button sends it: one recipient named, refused or not.
    const one = await browser.post(`/dashboard/campaigns/${campaignId}/retry`, {
      delegationId: failedIds[0] as string,
      includePermanent: 'on',
      next: `/dashboard/delegations/${failedIds[0]}`,
    });
    expect(one.status).toBe(303);
    expect(one.location).toBe(`/dashboard/delegations/${failedIds[0]}?notice=retried&n=1`);
    const [retried] = await stack.deps
      .sql`select state, send_attempts, smtp_reply from delegations where id = ${failedIds[0] as string}`;
    expect(retried).toMatchObject({ state: 'invited', send_attempts: 1, smtp_reply: null });
    const [event] = await stack.deps
      .sql`select actor_type, actor_id from delegation_events where delegation_id = ${failedIds[0] as string} and event = 'retry_send'`;
    expect(event).toMatchObject({ actor_type: 'partner_user', actor_id: owner.userId });
    // In a chunk of its own, with its token.
    const [moved] = await stack.deps.sql`select send_chunk from delegations where id = ${failedIds[0] as string}`;
    const token = await stack.deps.queues
      .queue('campaign-mail')
      .getJob(`send-chunk.${campaignId}.${moved?.send_chunk}`);
    expect(token).toBeTruthy();

    const page = await browser.get(one.location as string);
    expect(page.html).toContain('1 recipient will be sent the offer again.');

    // The other two were refused for good (550): the confirmation says so, and they are left
    // alone unless ticked.
    const confirm = await browser.get(`/dashboard/campaigns/${campaignId}/retry`);
    expect(confirm.html).toMatch(/data-testid="retry-permanent">2 recipients/);
    expect(confirm.html).toMatch(/data-testid="retry-temporary">0 recipients/);
    const unticked = await browser.post(`/dashboard/campaigns/${campaignId}/retry`, {});
    expect(unticked.location).toBe(`/dashboard/campaigns/${campaignId}?notice=retried&n=0&skipped=2`);
    expect((await browser.get(unticked.location as string)).html).toContain('Nothing was retried. 2 recipients');
    const rest = await browser.post(`/dashboard/campaigns/${campaignId}/retry`, { includePermanent: 'on' });
    expect(rest.location).toBe(`/dashboard/campaigns/${campaignId}?notice=retried&n=2`);
    const again = await browser.post(`/dashboard/campaigns/${campaignId}/retry`, { includePermanent: 'on' });
    expect(again.location).toBe(`/dashboard/campaigns/${campaignId}?notice=retried&n=0`);
    const [left] = await stack.deps
      .sql`select count(*)::int as n from delegations where campaign_id = ${campaignId} and state = 'failed'`;
    expect(left?.n).toBe(0);
  });

  it('refuses staff without access to retry (403), and a redirect off-site', async () => {
    const none = await createStaffMember(stack, owner.token, 'none');
    const browser = await signedInClient(stack, none.userId);
    expect((await browser.post(`/dashboard/campaigns/${campaignId}/retry`, {})).status).toBe(403);
    const ownerBrowser = await signedInClient(stack, owner.userId);
    const offsite = await ownerBrowser.post(`/dashboard/campaigns/${campaignId}/retry`, { next: '//evil.example/' });
    expect(offsite.location?.startsWith(`/dashboard/campaigns/${campaignId}?`)).toBe(true);
  });

  it('answers bad filters with a 422 page', async () => {
    const browser = await signedInClient(stack, owner.userId);
    const page = await browser.get(`/dashboard/delegations?state=bogus`);
    expect(page.status).toBe(422);
    expect(page.response.headers.get('content-type')).toContain('text/html');
  });
});

describe('delegations and operations', () => {
  it('filters delegations and shows one with its timeline and operations', async () => {
    const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 30 } });
    const { delegationId, admin } = await activateDelegation(stack, fixture);
    const opId = `op_${'a'.repeat(32)}`;
    await stack.deps.sql`
      insert into operations (id, partner_id, delegation_id, client_org_id, kind, requested_by, input, state, error, attempts)
      values (${opId}, ${fixture.partner.partnerId}, ${delegationId}, ${admin.orgId}, 'add_domain', ${fixture.partner.userId},
              '{"name":"x.example.com","token":"t"}', 'failed', 'DNS exploded', 3)`;
    const browser = await signedInClient(stack, fixture.partner.userId);

    const expiring = await browser.get('/dashboard/delegations?expiringWithinDays=31');
    expect(expiring.html).toContain(`/dashboard/delegations/${delegationId}`);
    const notYet = await browser.get('/dashboard/delegations?expiringWithinDays=7');
    expect(notYet.html).not.toContain(`/dashboard/delegations/${delegationId}`);

    const page = await browser.get(`/dashboard/delegations/${delegationId}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Access granted');
    expect(page.html).toContain('DNS exploded');

    const ops = await browser.get('/dashboard/operations?state=failed');
    expect(ops.html).toContain(`data-operation="${opId}"`);
    const retried = await browser.post(`/dashboard/operations/${opId}/retry`, {
      next: '/dashboard/operations?state=failed',
    });
    expect(retried.status).toBe(303);
    const [op] = await stack.deps.sql`select state, error, retried_at from operations where id = ${opId}`;
    expect(op?.state).toBe('queued');
    expect(op?.error).toBeNull();
    expect(op?.retried_at).not.toBeNull();
    const [audit] = await stack.deps
      .sql`select count(*)::int as n from audit_events where target_id = ${opId} and action = 'operation.retry.add_domain'`;
    expect(audit?.n).toBe(1);
    // Queued already: a second retry changes nothing and writes no second audit event.
    await browser.post(`/dashboard/operations/${opId}/retry`, {});
    const [auditAgain] = await stack.deps
      .sql`select count(*)::int as n from audit_events where target_id = ${opId} and action = 'operation.retry.add_domain'`;
    expect(auditAgain?.n).toBe(1);
  });

  it('shows staff with no access no client data', async () => {
    const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 30 } });
    const { delegationId, admin } = await activateDelegation(stack, fixture);
    await stack.deps.sql`
      insert into operations (id, partner_id, delegation_id, client_org_id, kind, requested_by, input, state, error)
      values (${`op_${'b'.repeat(32)}`}, ${fixture.partner.partnerId}, ${delegationId}, ${admin.orgId}, 'provision_user',
              ${fixture.partner.userId}, '{"email":"secret-user@client.example"}', 'failed', 'secret-user@client.example exists')`;
    const none = await createStaffMember(stack, fixture.partner.token, 'none');
    const browser = await signedInClient(stack, none.userId);
    expect((await browser.get('/dashboard/operations')).status).toBe(403);
    const overview = await browser.get('/dashboard');
    expect(overview.status).toBe(200);
    expect(overview.html).not.toContain('href="/dashboard/operations"');
    // Access none reads no partner data at all (test/integration/dashboard/access-none.test.ts).
    const page = await browser.get(`/dashboard/delegations/${delegationId}`);
    expect(page.status).toBe(403);
    expect(page.html).not.toContain('secret-user@client.example');
    expect(page.html).toContain('no access yet');
    expect((await browser.post(`/dashboard/operations/op_${'b'.repeat(32)}/retry`, {})).status).toBe(403);
  });
});

describe('shared aggregates', () => {
  it('serves one partner’s campaign summaries to every refresh for a few seconds, never another’s', async () => {
    const reader = { partnerId: owner.partnerId, isOwner: true, roles: [] };
    const first = await recentCampaigns(stack.deps.db, reader, 7);
    const again = await recentCampaigns(stack.deps.db, reader, 7);
    expect(again).toBe(first);
    expect(first.map((c) => c.id)).toContain(campaignId);
    const other = await createTestPartner(stack, 'Yet another');
    expect(await recentCampaigns(stack.deps.db, { ...reader, partnerId: other.partnerId }, 7)).toEqual([]);
  });
});
