import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLifecycle } from '../../../services/maintenance/lifecycle.ts';
import {
  amendmentLinkIn,
  createActiveDelegation,
  delegationTerms,
  endLinkIn,
  postAmendment,
} from '../../helpers/amendment-fixtures.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { waitFor } from '../../helpers/factories.ts';
import { createClientAdmin } from '../../helpers/offer-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let sink: SmtpSink;
const password = 'correct horse battery staple';

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url }, workers: true });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

async function mailsTo(to: string, words: string, count = 1) {
  const pick = () => sink.messages.filter((m) => m.to.includes(to.toLowerCase()) && m.subject?.includes(words));
  await waitFor(async () => pick().length >= count);
  return pick();
}

/** An active delegation with a pending addition; returns the admin's personal link (a path). */
async function pendingAddition(body: Record<string, unknown> = { addRoles: ['domain_admin'], extendDays: 10 }) {
  const setup = await createActiveDelegation(stack, ['password_admin']);
  const proposal = await postAmendment(stack, setup.owner, setup.delegationId, body);
  expect(proposal.status).toBe(202);
  const [mail] = await mailsTo(setup.admin.email, 'asks for more');
  return { ...setup, amendmentId: proposal.body.id, link: amendmentLinkIn(mail as never) as string };
}

async function signedIn(email: string) {
  const page = new PageClient(stack);
  await page.get('/sign-in');
  const response = await page.post('/sign-in', { email, password, next: '/org/delegations' });
  expect(response.status).toBe(303);
  return page;
}

const countEvents = async (delegationId: string) =>
  (await stack.deps.sql`select count(*)::int as n from delegation_events where delegation_id = ${delegationId}`)[0]
    ?.n as number;

describe('the amendment page', () => {
  it('asks to sign in, shows before → after in plain words, and an accept applies to the same delegation', async () => {
    const { delegationId, admin, link, amendmentId, fixture } = await pendingAddition();
    const before = await delegationTerms(stack, delegationId);
    const page = new PageClient(stack);

    const anonymous = await page.get(link);
    expect(anonymous.status).toBe(200);
    expect(anonymous.html).toContain('Sign in as a global administrator of');
    expect(anonymous.html).not.toContain('Accept the change');

    const signIn = await page.post(`${link}/sign-in`, { email: admin.email, password });
    expect(signIn.status).toBe(303);
    expect(signIn.location).toBe(link);
    const proposal = await page.get(link);
    expect(proposal.status).toBe(200);
    expect(proposal.html).toContain('Adds Domain administrator: can add domains to your organization and verify them.');
    expect(proposal.html).toContain('Moves the end 10 days later');
    expect(proposal.html).toContain('After the change');
    expect(proposal.html).toContain('Password administrator, Domain administrator');
    expect(proposal.html).toContain('Accept the change');

    const accepted = await page.post(`${link}/accept`);
    expect(accepted.status).toBe(200);
    expect(accepted.html).toContain('Change accepted');

    const after = await delegationTerms(stack, delegationId);
    expect(after).toMatchObject({ id: delegationId, state: 'active', roles: ['password_admin', 'domain_admin'] });
    expect(after.ends_at.getTime()).toBe(before.ends_at.getTime() + 10 * 86_400_000);
    const [event] = await stack.deps.sql`
      select actor_type, actor_id, detail from delegation_events where delegation_id = ${delegationId} and event = 'amend'`;
    expect(event).toMatchObject({
      actor_type: 'client_user',
      actor_id: admin.userId,
      detail: {
        amendmentId,
        before: { roles: ['password_admin'], endsAt: before.ends_at.toISOString() },
        after: { roles: ['password_admin', 'domain_admin'], endsAt: after.ends_at.toISOString() },
      },
    });
    const [audit] = await stack.deps.sql`
      select actor_user_id, detail from audit_events where org_id = ${admin.orgId} and action = 'amendment.accept'`;
    expect(audit?.actor_user_id).toBe(admin.userId);
    expect(audit?.detail).toMatchObject({
      before: { roles: ['password_admin'] },
      after: { roles: ['password_admin', 'domain_admin'] },
    });

    // Both sides are told; the client's copy carries the end link.
    const [partnerCopy] = await mailsTo(fixture.partner.email, 'accepted the change');
    const [clientCopy] = await mailsTo(admin.email, 'accepted the change');
    expect(partnerCopy?.text).toContain('Adds Domain administrator');
    expect(endLinkIn(partnerCopy as never)).toBeUndefined();
    expect(endLinkIn(clientCopy as never)).toContain(`/end/${delegationId}/`);

    // Accepting twice: a clear page, and nothing changes again.
    const events = await countEvents(delegationId);
    const again = await page.post(`${link}/accept`);
    expect(again.status).toBe(410);
    expect(again.html).toContain('already accepted');
    expect(await countEvents(delegationId)).toBe(events);
    expect(await delegationTerms(stack, delegationId)).toEqual(after);
    expect((await page.get(link)).status).toBe(410);
  });

  it('declining changes nothing, and both sides are told', async () => {
    const { delegationId, admin, link, fixture, amendmentId } = await pendingAddition({ autoExtend: true });
    const before = await delegationTerms(stack, delegationId);
    const page = new PageClient(stack);
    await page.get(link);
    await page.post(`${link}/sign-in`, { email: admin.email, password });
    expect((await page.get(link)).html).toContain('Turns automatic renewal on');
    const declined = await page.post(`${link}/decline`);
    expect(declined.status).toBe(200);
    expect(declined.html).toContain('Change declined');
    expect(await delegationTerms(stack, delegationId)).toEqual(before);
    const [row] = await stack.deps.sql`select state, answered_by from amendments where id = ${amendmentId}`;
    expect(row).toEqual({ state: 'declined', answered_by: admin.userId });
    await mailsTo(fixture.partner.email, 'declined the change');
    await mailsTo(admin.email, 'declined the change');
    expect((await page.post(`${link}/accept`)).status).toBe(410);
    expect(await delegationTerms(stack, delegationId)).toEqual(before);
  });

  it('a global admin of another organization, or a user who is not a global admin, gets 403 and cannot answer', async () => {
    const { delegationId, link, admin } = await pendingAddition();
    const before = await delegationTerms(stack, delegationId);
    const stranger = await createClientAdmin(stack, 'Other Org');
    const page = await signedIn(stranger.email);
    const shown = await page.get(link);
    expect(shown.status).toBe(403);
    expect(shown.html).toContain('can only be seen and answered by a global administrator of the organization');
    expect(shown.html).not.toContain('Domain administrator');
    expect((await page.post(`${link}/accept`)).status).toBe(403);

    const member = await createClientAdmin(stack, 'Member');
    await stack.deps.sql`update users set org_id = ${admin.orgId}, is_global_admin = false where id = ${member.userId}`;
    const memberPage = await signedIn(member.email);
    expect((await memberPage.get(link)).status).toBe(403);
    expect((await memberPage.post(`${link}/accept`)).status).toBe(403);

    expect(await delegationTerms(stack, delegationId)).toEqual(before);
    const [row] = await stack.deps.sql`select state from amendments where delegation_id = ${delegationId}`;
    expect(row?.state).toBe('pending');
  });

  it('a stale link after the delegation ended: a clear 410, and the sweep cancels the request', async () => {
    const { delegationId, link, admin, owner, amendmentId } = await pendingAddition();
    const page = new PageClient(stack);
    await page.get(link);
    await page.post(`${link}/sign-in`, { email: admin.email, password });
    await stack.request(`/v1/delegations/${delegationId}`, { method: 'DELETE', token: owner });
    const shown = await page.get(link);
    expect(shown.status).toBe(410);
    expect(shown.html).toContain('The delegation has ended');
    const posted = await page.post(`${link}/accept`);
    expect(posted.status).toBe(410);
    expect((await delegationTerms(stack, delegationId)).state).toBe('terminated');
    expect((await delegationTerms(stack, delegationId)).roles).toEqual(['password_admin']);
    const result = await runLifecycle(stack.deps);
    expect(result.amendmentsCancelled).toBeGreaterThanOrEqual(1);
    const [row] = await stack.deps.sql`select state from amendments where id = ${amendmentId}`;
    expect(row?.state).toBe('cancelled');
    expect((await page.get(link)).html).toContain('The delegation ended before this request was answered');
  });

  it('unanswered for 30 days it expires in the sweep: nothing changes, the partner is told', async () => {
    const { delegationId, link, admin, amendmentId, fixture } = await pendingAddition();
    const before = await delegationTerms(stack, delegationId);
    await stack.deps.sql`update amendments set expires_at = now() - interval '1 second' where id = ${amendmentId}`;
    const page = new PageClient(stack);
    await page.get(link);
    // Past its time, it cannot be answered even before the sweep has run.
    expect((await page.get(link)).status).toBe(410);
    const result = await runLifecycle(stack.deps);
    expect(result.amendmentsExpired).toBe(1);
    expect((await runLifecycle(stack.deps)).amendmentsExpired).toBe(0);
    const [row] = await stack.deps.sql`select state from amendments where id = ${amendmentId}`;
    expect(row?.state).toBe('expired');
    expect(await delegationTerms(stack, delegationId)).toEqual(before);
    await mailsTo(fixture.partner.email, 'did not answer');
    const [audit] = await stack.deps.sql`
      select action from audit_events where org_id = ${admin.orgId} and action = 'amendment.expire'`;
    expect(audit).toBeDefined();
    expect((await page.get(link)).html).toContain('expired without an answer');
  });

  it('unknown links are 404; a form without its CSRF token is refused and changes nothing', async () => {
    const page = new PageClient(stack);
    expect((await page.get(`/amendments/${'A'.repeat(43)}`)).status).toBe(404);
    expect((await page.get('/amendments/short')).status).toBe(404);
    const { delegationId, link, admin } = await pendingAddition();
    await page.get(link);
    await page.post(`${link}/sign-in`, { email: admin.email, password });
    const forged = await page.post(`${link}/accept`, {}, null);
    expect(forged.status).toBe(403);
    expect((await delegationTerms(stack, delegationId)).roles).toEqual(['password_admin']);
  });
});
