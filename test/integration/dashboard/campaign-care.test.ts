import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSubmission } from '../../../api/web/dashboard/submit-once.ts';
import { permanentSendFailures } from '../../../core/send-failures.ts';
import { delegationLinkToken } from '../../../lib/secrets.ts';
import { recordReminderEmails } from '../../../services/campaigns/reminders.ts';
import { applyTransition, systemActor } from '../../../services/delegations/transitions.ts';
import { reconcile } from '../../../services/maintenance/reconciler.ts';
import type { PageClient } from '../../helpers/browser-client.ts';
import { createStaffMember, deliveredText, signedInClient } from '../../helpers/dashboard.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let owner: Awaited<ReturnType<typeof createTestPartner>>;
let offerId: string;

beforeAll(async () => {
  stack = await createTestStack();
  owner = await createTestPartner(stack, 'Northwind');
  offerId = (await createTestOffer(stack, owner.token)).id;
});
afterAll(() => stack.close());

/** A campaign of `emails`; those starting with `refused` fail with a 550, `busy` ones on temporary replies, the rest are offered. */
async function campaignOf(emails: string[]): Promise<string> {
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token: owner.token,
    json: { offerId, recipients: emails.map((email) => ({ email })) },
  });
  const { id } = (await response.json()) as { id: string };
  for (const row of await stack.deps.sql`select id, recipient_email from delegations where campaign_id = ${id}`) {
    const email = row.recipient_email as string;
    const failure = email.startsWith('refused')
      ? { failureReason: permanentSendFailures.refused, smtpReply: `550 5.1.1 <${email}>: user unknown` }
      : email.startsWith('busy')
        ? { failureReason: 'Gave up after 10 attempts; the last reply was temporary', smtpReply: '421 4.3.2 busy' }
        : null;
    await applyTransition(stack.deps.db, {
      delegationId: row.id as string,
      from: 'invited',
      event: failure ? 'send_failed' : 'send_succeeded',
      actor: systemActor,
      set: failure ? { ...failure, sendAttempts: 1 } : { offeredAt: new Date(), sendAttempts: 1 },
    });
  }
  return id;
}

/** The hidden fields of the form posting to `action` on `html`, as a browser would send them. */
function formOf(html: string, action: string): Record<string, string> {
  const form = new RegExp(
    `<form[^>]*action="${action.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*>(.*?)</form>`,
    's',
  ).exec(html)?.[1];
  if (!form) throw new Error(`no form posting to ${action}`);
  const fields: Record<string, string> = {};
  for (const [, name, value] of form.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    if (name && name !== 'csrf') fields[name] = value ?? '';
  }
  return fields;
}

const states = async (id: string) =>
  (
    await stack.deps.sql`select state, count(*)::int as n from delegations where campaign_id = ${id} group by state`
  ).reduce((all, r) => Object.assign(all, { [r.state as string]: r.n }), {} as Record<string, number>);

describe('retrying failed sends from the campaign page', () => {
  let browser: PageClient;
  beforeAll(async () => {
    browser = await signedInClient(stack, owner.userId);
  });

  it('confirms with the count of each kind, and retries the temporary ones unless permanent refusals are ticked', async () => {
    const id = await campaignOf(['ok@x.example', 'refused1@x.example', 'refused2@x.example', 'busy@x.example']);
    const page = await browser.get(`/dashboard/campaigns/${id}`);
    expect(page.html).toContain(`href="/dashboard/campaigns/${id}/retry"`);
    const confirm = await browser.get(`/dashboard/campaigns/${id}/retry`);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toMatch(/data-testid="retry-temporary">1 recipient \(/);
    expect(confirm.html).toMatch(/data-testid="retry-permanent">2 recipients \(/);
    expect(confirm.html).toContain('name="includePermanent"');

    const fields = formOf(confirm.html, `/dashboard/campaigns/${id}/retry`);
    const sent = await browser.post(`/dashboard/campaigns/${id}/retry`, fields);
    expect(sent.status).toBe(303);
    expect(sent.location).toBe(`/dashboard/campaigns/${id}?notice=retried&n=1&skipped=2`);
    expect((await browser.get(sent.location as string)).html).toContain(
      '1 recipient will be sent the offer again. 2 recipients mail servers refused for good were left alone',
    );
    expect(await states(id)).toEqual({ offered: 1, failed: 2, invited: 1 });

    const again = await browser.get(`/dashboard/campaigns/${id}/retry`);
    const ticked = await browser.post(`/dashboard/campaigns/${id}/retry`, {
      ...formOf(again.html, `/dashboard/campaigns/${id}/retry`),
      includePermanent: 'on',
    });
    expect(ticked.location).toBe(`/dashboard/campaigns/${id}?notice=retried&n=2`);
    expect(await states(id)).toEqual({ offered: 1, invited: 3 });
  });

  it('answers a double submit of the same form with the first one’s result, and retries once', async () => {
    const id = await campaignOf(['busy1@x.example', 'busy2@x.example']);
    const fields = formOf(
      (await browser.get(`/dashboard/campaigns/${id}/retry`)).html,
      `/dashboard/campaigns/${id}/retry`,
    );
    const [first, second] = await Promise.all([
      browser.post(`/dashboard/campaigns/${id}/retry`, fields),
      browser.post(`/dashboard/campaigns/${id}/retry`, fields),
    ]);
    // Both land on the first one's notice: 2 retried (not one "2" and one "nothing to retry").
    expect(first.location).toBe(`/dashboard/campaigns/${id}?notice=retried&n=2`);
    expect(second.location).toBe(first.location);
    const reload = await browser.post(`/dashboard/campaigns/${id}/retry`, fields);
    expect(reload.location).toBe(first.location);
    const [audits] = await stack.deps.sql`
      select count(*)::int as n from audit_events where action = 'campaign.retry_failed' and target_id = ${id}`;
    expect(audits?.n).toBe(1);
    // The same submission with its boxes changed afterwards (the back button) is still that submission.
    const other = await browser.post(`/dashboard/campaigns/${id}/retry`, { ...fields, includePermanent: 'on' });
    expect(other.location).toBe(first.location);
    const [stillOne] = await stack.deps.sql`
      select count(*)::int as n from audit_events where action = 'campaign.retry_failed' and target_id = ${id}`;
    expect(stillOne?.n).toBe(1);
  });

  it('offers the row’s retry to each failed recipient, refused or not, and sends it with its key', async () => {
    const id = await campaignOf(['refused@x.example', 'ok@x.example']);
    const page = await browser.get(`/dashboard/campaigns/${id}?state=failed`);
    const fields = formOf(page.html, `/dashboard/campaigns/${id}/retry`);
    expect(fields).toMatchObject({ includePermanent: 'on' });
    expect(fields.submission).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const sent = await browser.post(`/dashboard/campaigns/${id}/retry`, fields);
    expect(sent.location).toBe(`/dashboard/campaigns/${id}?state=failed&notice=retried&n=1`);
    expect(await states(id)).toEqual({ offered: 1, invited: 1 });
  });

  it('shows no retry to staff without access, and refuses their confirmation page and form', async () => {
    const id = await campaignOf(['busy@x.example']);
    const none = await createStaffMember(stack, owner.token, 'none');
    const noAccess = await signedInClient(stack, none.userId);
    expect((await noAccess.get(`/dashboard/campaigns/${id}/retry`)).status).toBe(403);
    expect((await noAccess.post(`/dashboard/campaigns/${id}/retry`, {})).status).toBe(403);
    expect(await states(id)).toEqual({ failed: 1 });
  });
});

describe('reminding everyone still offered after N days', () => {
  let browser: PageClient;
  beforeAll(async () => {
    browser = await signedInClient(stack, owner.userId);
  });

  /** A campaign whose `old…` recipients were offered ten days ago, `new…` ones two days ago; `refused…` failed. */
  async function offeredCampaign(emails: string[]): Promise<string> {
    const id = await campaignOf(emails);
    await stack.deps.sql`update delegations set offered_at = now() - interval '10 days'
      where campaign_id = ${id} and recipient_email like 'old%'`;
    await stack.deps.sql`update delegations set offered_at = now() - interval '2 days'
      where campaign_id = ${id} and recipient_email like 'new%'`;
    return id;
  }

  const remindForm = async (id: string) =>
    formOf((await browser.get(`/dashboard/campaigns/${id}`)).html, `/dashboard/campaigns/${id}/remind`);
  const reminders = (id: string) =>
    stack.deps
      .sql`select number, after_days, recipients, created_by from campaign_reminders where campaign_id = ${id} order by number`;
  const reminderEmails = (id: string) => stack.deps.sql`
    select e.to_email, e.subject, e.text_body, e.links, e.dedupe_key from emails e
    join delegations d on d.id = e.delegation_id
    where d.campaign_id = ${id} and e.kind = 'campaign-reminder' order by e.dedupe_key`;

  it('reminds, once per click, those offered long enough ago, with the link of their offer email', async () => {
    const id = await offeredCampaign(['old1@x.example', 'old2@x.example', 'new@x.example', 'refused@x.example']);
    // One form, outside the parts the page refreshes live (it holds an input being typed in).
    const page0 = (await browser.get(`/dashboard/campaigns/${id}`)).html;
    expect(page0.match(/action="[^"]*\/remind"/g)).toHaveLength(1);
    for (const live of page0.matchAll(/<section class="card" data-live="[^"]+">(.*?)<\/section>/gs)) {
      expect(live[1]).not.toContain('/remind"');
    }
    const fields: Record<string, string> = { ...(await remindForm(id)), afterDays: '7' };
    expect(fields.number).toBe('1');
    const [first, second] = await Promise.all([
      browser.post(`/dashboard/campaigns/${id}/remind`, fields),
      browser.post(`/dashboard/campaigns/${id}/remind`, fields),
    ]);
    expect(first.location).toBe(`/dashboard/campaigns/${id}?notice=reminded&n=2&r=1&days=7`);
    expect(second.location).toBe(first.location);
    const page = await browser.get(first.location as string);
    expect(page.html).toContain('Reminder 1 is on its way to 2 recipients still offered after 7 days');
    expect(page.html).toContain('data-reminder="1"');
    expect(await reminders(id)).toEqual([{ number: 1, after_days: 7, recipients: 2, created_by: owner.userId }]);
    const [audit] = await stack.deps.sql`
      select count(*)::int as n, max(detail::text) as detail from audit_events where action = 'campaign.remind' and target_id = ${id}`;
    expect(audit?.n).toBe(1);
    expect(JSON.parse(audit?.detail as string)).toEqual({ number: 1, afterDays: 7, recipients: 2 });
    expect(await stack.deps.queues.queue('campaigns').getJob(`remind-campaign.${id}.1`)).toBeTruthy();

    // The job (as a worker runs it), twice: each recipient's email written once.
    expect(await recordReminderEmails(stack.deps, id, 1)).toBe(2);
    expect(await recordReminderEmails(stack.deps, id, 1)).toBe(0);
    const written = await reminderEmails(id);
    expect(written.map((e) => e.to_email)).toEqual(['old1@x.example', 'old2@x.example']);
    for (const email of written) {
      expect(email.subject).toBe('Reminder: Northwind offers to administer your organization');
      const delegationId = String(email.dedupe_key).split('.')[1] as string;
      // No key in the outbox: a placeholder, the link derived when the email goes out.
      expect(email.text_body).not.toContain(delegationLinkToken(stack.config.linkSecret, delegationId));
      const text = await deliveredText(stack, email.to_email as string, 'campaign-reminder');
      expect(text).toContain(`/offers/${delegationLinkToken(stack.config.linkSecret, delegationId)}`);
    }
    const [row] = await stack.deps
      .sql`select recorded_at from campaign_reminders where campaign_id = ${id} and number = 1`;
    expect(row?.recorded_at).not.toBeNull();

    // Another click the same day: "after 7 days" counts from the reminder they just got.
    const sameDay = await browser.post(`/dashboard/campaigns/${id}/remind`, {
      ...(await remindForm(id)),
      afterDays: '7',
    });
    expect(sameDay.location).toBe(`/dashboard/campaigns/${id}?notice=reminded&n=0&days=7`);
    // A week later, the next reminder: the same recipients once more, each once.
    await stack.deps.sql`update emails set created_at = now() - interval '8 days'
      where kind = 'campaign-reminder' and delegation_id in (select id from delegations where campaign_id = ${id})`;
    const next: Record<string, string> = { ...(await remindForm(id)), afterDays: '7' };
    expect(next.number).toBe('2');
    expect((await browser.post(`/dashboard/campaigns/${id}/remind`, next)).location).toContain('n=2&r=2');
    expect(await recordReminderEmails(stack.deps, id, 2)).toBe(2);
    expect(await reminderEmails(id)).toHaveLength(4);
    // A stale page (another tab) naming reminder 2 again, with a form key of its own: nothing new.
    const stale = await browser.post(`/dashboard/campaigns/${id}/remind`, { ...next, submission: newSubmission() });
    expect(stale.location).toBe(`/dashboard/campaigns/${id}?notice=reminded&n=2&r=2&days=7`);
    expect(await reminders(id)).toHaveLength(2);
  });

  it('tells when nobody has waited that long, and records nothing', async () => {
    const id = await offeredCampaign(['new1@x.example', 'new2@x.example']);
    const answer = await browser.post(`/dashboard/campaigns/${id}/remind`, {
      ...(await remindForm(id)),
      afterDays: '7',
    });
    expect(answer.location).toBe(`/dashboard/campaigns/${id}?notice=reminded&n=0&days=7`);
    expect((await browser.get(answer.location as string)).html).toContain('Nobody to remind');
    expect(await reminders(id)).toHaveLength(0);
  });

  it('refuses a reminder of a withdrawn offer, a wait out of range, and staff without access', async () => {
    const id = await offeredCampaign(['old@x.example']);
    const form = await remindForm(id);
    expect((await browser.post(`/dashboard/campaigns/${id}/remind`, { ...form, afterDays: '0' })).status).toBe(422);
    expect((await browser.post(`/dashboard/campaigns/${id}/remind`, { ...form, afterDays: '90' })).status).toBe(422);
    const none = await signedInClient(stack, (await createStaffMember(stack, owner.token, 'none')).userId);
    expect((await none.post(`/dashboard/campaigns/${id}/remind`, { ...form, afterDays: '7' })).status).toBe(403);
    const outsider = await signedInClient(stack, (await createTestPartner(stack)).userId);
    expect((await outsider.post(`/dashboard/campaigns/${id}/remind`, { ...form, afterDays: '7' })).status).toBe(404);
    const offer = await createTestOffer(stack, owner.token);
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token: owner.token,
      json: { offerId: offer.id, recipients: [{ email: 'old@y.example' }] },
    });
    const { id: other } = (await response.json()) as { id: string };
    await stack.deps
      .sql`update delegations set state = 'offered', offered_at = now() - interval '10 days' where campaign_id = ${other}`;
    const fields = { ...(await remindForm(other)), afterDays: '7' };
    await stack.request(`/v1/offers/${offer.id}`, { method: 'DELETE', token: owner.token });
    const refused = await browser.post(`/dashboard/campaigns/${other}/remind`, fields);
    expect(refused.status).toBe(409);
    expect(await reminders(id)).toHaveLength(0);
    expect(await reminders(other)).toHaveLength(0);
  });

  it('writes nothing when whoever asked may no longer send offers, and the reconciler runs a lost job again', async () => {
    const id = await offeredCampaign(['old1@x.example', 'old2@x.example']);
    const staff = await createStaffMember(stack, owner.token, 'limited');
    const staffBrowser = await signedInClient(stack, staff.userId);
    const page = await staffBrowser.get(`/dashboard/campaigns/${id}`);
    const asked = await staffBrowser.post(`/dashboard/campaigns/${id}/remind`, {
      ...formOf(page.html, `/dashboard/campaigns/${id}/remind`),
      afterDays: '7',
    });
    expect(asked.location).toContain('notice=reminded&n=2&r=1');
    // The queue lost the job: the reconciler adds it again while the reminder is not written.
    await stack.deps.queues.queue('campaigns').remove(`remind-campaign.${id}.1`);
    expect((await reconcile(stack.deps, { minAgeSeconds: 0 })).reminders).toBeGreaterThanOrEqual(1);
    expect(await stack.deps.queues.queue('campaigns').getJob(`remind-campaign.${id}.1`)).toBeTruthy();
    // Their access went to none before the job ran: nothing is written, and the reminder is done with.
    await stack.deps.sql`update staff_access set roles = '{}' where user_id = ${staff.userId}`;
    expect(await recordReminderEmails(stack.deps, id, 1)).toBe(0);
    expect(await reminderEmails(id)).toHaveLength(0);
    const [row] = await stack.deps.sql`select recorded_at from campaign_reminders where campaign_id = ${id}`;
    expect(row?.recorded_at).not.toBeNull();
  });
});
