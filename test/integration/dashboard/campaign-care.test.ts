import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permanentSendFailures } from '../../../core/send-failures.ts';
import { applyTransition, systemActor } from '../../../services/delegations/transitions.ts';
import type { PageClient } from '../../helpers/browser-client.ts';
import { createStaffMember, signedInClient } from '../../helpers/dashboard.ts';
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
    // The same key with other values is another submission: refused, nothing retried.
    const other = await browser.post(`/dashboard/campaigns/${id}/retry`, { ...fields, includePermanent: 'on' });
    expect(other.status).toBe(422);
    expect(other.html).toContain('already sent, with other values');
  });

  it('offers the row’s retry to each failed recipient, refused or not, and sends it with its key', async () => {
    const id = await campaignOf(['refused@x.example', 'ok@x.example']);
    const page = await browser.get(`/dashboard/campaigns/${id}?state=failed`);
    const fields = formOf(page.html, `/dashboard/campaigns/${id}/retry`);
    expect(fields).toMatchObject({ includePermanent: 'on' });
    expect(fields.formKey).toMatch(/^[A-Za-z0-9_-]{22}$/);
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
