import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClientOrganization } from '../../../services/accounts/client-accounts.ts';
import { runLifecycle } from '../../../services/maintenance/lifecycle.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { waitFor } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { type ReceivedMail, type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The client can always leave: every email to a client admin about a delegation carries a
 * signed "End this delegation" link to a confirmation page that works without signing in.
 * Emails are read from the SMTP server that received them.
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

const endLinkPattern = /http:\/\/mandate\.test(\/end\/(dlg_[0-9a-f]+)\/([A-Za-z0-9_-]{43}))/;

/** The messages the SMTP server received for `to`, whose subject matches, once `count` have arrived. */
function mailTo(to: string, subject: RegExp, count = 1): Promise<ReceivedMail[]> {
  return waitFor(async () => {
    const found = sink.messages.filter((m) => m.to.includes(to.toLowerCase()) && subject.test(m.subject ?? ''));
    return found.length >= count ? found : undefined;
  });
}

/** The path of the end link in an email (text and HTML parts agree), for `delegationId`. */
function endPathIn(mail: ReceivedMail | undefined, delegationId: string): string {
  const match = endLinkPattern.exec(mail?.text ?? '');
  expect(match?.[2]).toBe(delegationId);
  expect(mail?.text).toContain(`End this delegation: http://mandate.test${match?.[1]}`);
  expect(mail?.html).toContain(`href="http://mandate.test${match?.[1]}"`);
  return match?.[1] as string;
}

async function activeFullDelegation(partnerName: string) {
  const fixture = await createOfferFixture(stack, { partnerName, offer: { access: 'full', durationDays: 365 } });
  const { admin, delegationId } = await activateDelegation(stack, fixture);
  const [receipt] = await mailTo(admin.email, /^You granted/);
  return { fixture, admin, delegationId, endPath: endPathIn(receipt, delegationId) };
}

const state = async (id: string) =>
  (await stack.deps.sql`select state from delegations where id = ${id}`)[0]?.state as string;
const emailCount = async (id: string, kind: string) =>
  (await stack.deps.sql`select count(*)::int as n from emails where delegation_id = ${id} and kind = ${kind}`)[0]
    ?.n as number;

describe('the end link in every email to a client admin', () => {
  it('is in the receipt, expiry notices, expiry and termination notices — and never in the partner’s copies', async () => {
    const { fixture, admin, delegationId } = await activeFullDelegation('Expiring Partner');
    // A second global admin of the client gets the notices too, with the link.
    const second = await createClientOrganization(stack.deps.db, {
      orgName: 'ignored',
      adminName: 'Second',
      email: `second-${delegationId.slice(-8)}@client.example`,
      password: 'correct horse battery staple',
    });
    await stack.deps.sql`update users set org_id = ${admin.orgId} where id = ${second.userId}`;
    const secondEmail = `second-${delegationId.slice(-8)}@client.example`;
    const owner = fixture.partner.email;

    const [accepted] = await mailTo(owner, /accepted your delegated administration offer/);
    expect(accepted?.text).not.toContain('/end/');

    await stack.deps.sql`update delegations set ends_at = now() + interval '5 days' where id = ${delegationId}`;
    await runLifecycle(stack.deps);
    for (const to of [admin.email, secondEmail]) {
      const [notice] = await mailTo(to, /ends in 5 days$/);
      endPathIn(notice, delegationId);
    }
    expect((await mailTo(owner, /ends in 5 days$/))[0]?.text).not.toContain('/end/');

    await stack.deps.sql`update delegations set ends_at = now() - interval '1 minute' where id = ${delegationId}`;
    await runLifecycle(stack.deps);
    for (const to of [admin.email, secondEmail]) endPathIn((await mailTo(to, /has expired$/))[0], delegationId);
    expect((await mailTo(owner, /has expired$/))[0]?.text).not.toContain('/end/');

    // An expired delegation's link says so, and ends nothing.
    const page = await new PageClient(stack).get(
      endPathIn((await mailTo(admin.email, /has expired$/))[0], delegationId),
    );
    expect(page.status).toBe(200);
    expect(page.html).toContain('Already ended');
    expect(page.html).not.toContain('<form method="post"');

    // Termination notices: the partner ends another delegation.
    const other = await activeFullDelegation('Terminating Partner');
    const ended = await stack.request(`/v1/delegations/${other.delegationId}`, {
      method: 'DELETE',
      token: other.fixture.partner.token,
    });
    expect(ended.status).toBeLessThan(300);
    endPathIn((await mailTo(other.admin.email, /has ended$/))[0], other.delegationId);
    expect((await mailTo(other.fixture.partner.email, /has ended$/))[0]?.text).not.toContain('/end/');
  });

  it('a partner resetting the admin’s password cannot keep them from ending it (no sign-in needed)', async () => {
    const { fixture, admin, delegationId } = await activeFullDelegation('Looping Partner');
    const reset = await stack.request(`/v1/delegations/${delegationId}/users/${admin.userId}/password-reset`, {
      method: 'POST',
      token: fixture.partner.token,
    });
    expect(reset.status).toBe(202);
    const [mail] = await mailTo(admin.email, /^Password reset in/);
    expect(mail?.text).toContain('Temporary password:');
    const endPath = endPathIn(mail, delegationId);
    // The admin's password is no longer theirs and their sessions are gone: the link still works.
    // (The email with the password leaves just before the transaction that sets it commits.)
    await waitFor(
      async () =>
        (await stack.deps.sql`select must_change_password from users where id = ${admin.userId}`)[0]
          ?.must_change_password === true,
      10_000,
    );

    const browser = new PageClient(stack);
    const page = await browser.get(endPath);
    expect(page.status).toBe(200);
    expect(page.html).toContain('End the delegation to Looping Partner?');
    const done = await browser.post(endPath);
    expect(done.status).toBe(200);
    expect(done.html).toContain('The delegation has been ended');
    expect(await state(delegationId)).toBe('terminated');

    // The partner's next reset is refused: the delegation is over.
    const again = await stack.request(`/v1/delegations/${delegationId}/users/${admin.userId}/password-reset`, {
      method: 'POST',
      token: fixture.partner.token,
    });
    expect(again.status).toBeGreaterThanOrEqual(400);
  });

  it('works for a signed-in admin who must change their password: no detour, the key stays in the path', async () => {
    const { admin, delegationId, endPath } = await activeFullDelegation('Detour Partner');
    const browser = new PageClient(stack);
    await browser.get('/sign-in');
    const signIn = await browser.post('/sign-in', {
      email: admin.email,
      password: 'correct horse battery staple',
      next: '/org/delegations',
    });
    expect(signIn.status).toBe(303);
    // As after a partner's reset: signed in, with a password that must be changed first.
    await stack.deps.sql`update users set must_change_password = true where id = ${admin.userId}`;
    const elsewhere = await browser.get('/org/delegations');
    expect(elsewhere.status).toBe(303);
    expect(elsewhere.response.headers.get('location')).toMatch(/^\/account\/password\?next=/);

    const page = await browser.get(endPath);
    expect(page.status).toBe(200);
    expect(page.response.headers.get('location')).toBeNull();
    expect(page.html).toContain('End the delegation to Detour Partner?');
    const done = await browser.post(endPath);
    expect(done.status).toBe(200);
    expect(done.html).toContain('The delegation has been ended');
    expect(await state(delegationId)).toBe('terminated');
  });

  it('temporary passwords for non-admin users carry no end link', async () => {
    const { fixture, admin, delegationId } = await activeFullDelegation('Helpdesk Partner');
    const member = await createClientOrganization(stack.deps.db, {
      orgName: 'ignored',
      adminName: 'Member',
      email: `member-${delegationId.slice(-8)}@client.example`,
      password: 'correct horse battery staple',
    });
    await stack.deps.sql`update users set org_id = ${admin.orgId}, is_global_admin = false where id = ${member.userId}`;
    const reset = await stack.request(`/v1/delegations/${delegationId}/users/${member.userId}/password-reset`, {
      method: 'POST',
      token: fixture.partner.token,
    });
    expect(reset.status).toBe(202);
    // A non-admin's temporary password goes to the staff member who asked: the partner's side.
    const [mail] = await mailTo(fixture.partner.email, /^Password reset in/);
    expect(mail?.text).not.toContain('/end/');
  });
});

describe('the end page', () => {
  it('asks first: GET changes nothing, POST without the form token changes nothing', async () => {
    const { delegationId, endPath } = await activeFullDelegation('Asking <b>Partner</b>');
    const events = async () =>
      (await stack.deps.sql`select count(*)::int as n from delegation_events where delegation_id = ${delegationId}`)[0]
        ?.n as number;
    const before = await events();
    const browser = new PageClient(stack);
    const page = await browser.get(endPath);
    expect(page.status).toBe(200);
    expect(page.response.headers.get('cache-control')).toBe('no-store');
    expect(page.response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(page.html).toContain('End the delegation to Asking &lt;b&gt;Partner&lt;/b&gt;?');
    expect(page.html).toContain('<strong>Global administrator</strong>');
    expect(page.html).toContain(`<form method="post" action="${endPath}">`);
    expect(page.html).toContain('End this delegation</button>');
    await browser.get(endPath);
    expect(await state(delegationId)).toBe('active');
    expect(await events()).toBe(before);

    const forged = await browser.post(endPath, {}, null);
    expect(forged.status).toBe(403);
    const otherSite = await stack.request(endPath, {
      method: 'POST',
      headers: { origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'csrf=x',
    });
    expect(otherSite.status).toBe(403);
    expect(await state(delegationId)).toBe('active');
  });

  it('ends it as the client, emails both sides once, and says "already ended" after', async () => {
    const { fixture, admin, delegationId, endPath } = await activeFullDelegation('Leaving Partner');
    const browser = new PageClient(stack);
    await browser.get(endPath);
    const done = await browser.post(endPath);
    expect(done.status).toBe(200);
    expect(done.html).toContain('The delegation has been ended: Leaving Partner can no longer act in Client Org.');

    const [row] = await stack.deps.sql`select state, ended_at from delegations where id = ${delegationId}`;
    expect(row?.state).toBe('terminated');
    expect(row?.ended_at).not.toBeNull();
    const [event] = await stack.deps.sql`select actor_type, actor_id, detail from delegation_events
      where delegation_id = ${delegationId} and event = 'terminate'`;
    expect(event).toMatchObject({ actor_type: 'client_user', actor_id: null, detail: { via: 'end link' } });
    const [audit] = await stack.deps.sql`select org_id, detail from audit_events
      where target_id = ${delegationId} and action = 'delegation.terminate'`;
    expect(audit).toMatchObject({
      org_id: admin.orgId,
      detail: { by: 'client_user', via: 'end link', from: 'active' },
    });

    const [toOwner] = await mailTo(fixture.partner.email, /^Delegated administration between Leaving Partner/);
    expect(toOwner?.text).toContain('was ended by Client Org (with the end link of a Mandate email)');
    await mailTo(admin.email, /^Delegated administration between Leaving Partner/);

    // Again, from the same page or a fresh one: nothing more happens.
    const again = await browser.post(endPath);
    expect(again.status).toBe(200);
    expect(again.html).toContain('Already ended');
    expect((await new PageClient(stack).get(endPath)).html).toContain('Already ended');
    expect(await emailCount(delegationId, 'terminated')).toBe(2);
    await new Promise((r) => setTimeout(r, 300));
    const terminatedMails = sink.messages.filter(
      (m) => m.subject?.startsWith('Delegated administration between Leaving Partner') ?? false,
    );
    expect(terminatedMails).toHaveLength(2);
  });

  it('a wrong key gets the same 404 as an address that leads nowhere, and changes nothing', async () => {
    const one = await activeFullDelegation('Keyed Partner');
    const two = await activeFullDelegation('Other Keyed Partner');
    const [, , key] = one.endPath.split('/').slice(1);
    const twoKey = two.endPath.split('/').at(-1) as string;
    const flipped = `${(key as string).slice(0, -1)}${key?.endsWith('A') ? 'B' : 'A'}`;
    const nowhere = await new PageClient(stack).get(`/end/dlg_${'0'.repeat(32)}/${key}`);
    expect(nowhere.status).toBe(404);
    const wrongPaths = [
      `/end/${one.delegationId}/${twoKey}`,
      `/end/${one.delegationId}/${flipped}`,
      `/end/${one.delegationId}/short`,
      `/end/${one.delegationId}/${key}x`,
      `/end/${one.delegationId}`,
    ];
    for (const path of wrongPaths) {
      const page = await new PageClient(stack).get(path);
      expect(page.status, path).toBe(404);
      expect(page.html).toBe(nowhere.html);
      expect(page.html).not.toContain('Keyed Partner');
    }
    const browser = new PageClient(stack);
    await browser.get(one.endPath);
    for (const path of wrongPaths.slice(0, 4)) {
      const attempt = await browser.post(path);
      expect(attempt.status, path).toBe(404);
      expect(attempt.html).not.toContain('Keyed Partner');
    }
    expect(await state(one.delegationId)).toBe('active');
    expect(await state(two.delegationId)).toBe('active');
  });

  it('confirmations are rate-limited per address', async () => {
    const browser = new PageClient(stack, '192.0.2.77');
    const { endPath } = await activeFullDelegation('Limited Rate Partner');
    await browser.get(endPath);
    const wrong = `${endPath.slice(0, -1)}${endPath.endsWith('A') ? 'B' : 'A'}`;
    const statuses: number[] = [];
    for (let i = 0; i < 31; i++) statuses.push((await browser.post(wrong)).status);
    expect(statuses.slice(0, 30).every((s) => s === 404)).toBe(true);
    expect(statuses[30]).toBe(429);
  });
});
