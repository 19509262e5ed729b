import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOrgFromOffer, PageClient } from '../../helpers/browser-client.ts';
import { rowCounts, waitFor } from '../../helpers/factories.ts';
import { createOfferFixture, type OfferFixture } from '../../helpers/offer-fixtures.ts';
import { type ReceivedMail, type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Partial approval: the offer page shows each role in plain words, optional ones as ticked
 * checkboxes; the delegation holds what the client actually granted, and the partner's
 * owners are told (emails read from the SMTP server that received them).
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

const offer = {
  durationDays: 90,
  roles: [{ role: 'password_admin' }, { role: 'user_admin', optional: true }, { role: 'domain_admin', optional: true }],
};

/** A partner's offer with one required and two optional roles, and a campaign of one. */
function fixture(partnerName: string): Promise<OfferFixture> {
  return createOfferFixture(stack, { partnerName, offer });
}

/** A new client organization created on the offer page; the browser stays signed in. */
async function signedInClient(token: string) {
  const browser = new PageClient(stack);
  const email = `admin-${randomBytes(4).toString('hex')}@client.example`;
  await createOrgFromOffer(browser, token, { orgName: 'Fabrikam', email });
  return { browser, email };
}

function mailTo(to: string, subject: RegExp): Promise<ReceivedMail> {
  return waitFor(async () =>
    sink.messages.find((m) => m.to.includes(to.toLowerCase()) && subject.test(m.subject ?? '')),
  );
}

const delegationRow = async (id: string) =>
  (await stack.deps.sql`select state, roles from delegations where id = ${id}`)[0] as {
    state: string;
    roles: string[];
  };

const waitActive = (id: string) =>
  waitFor(async () => ((await delegationRow(id)).state === 'active' ? delegationRow(id) : undefined));

describe('the offer page', () => {
  it('shows each role in plain words: required ones as required, optional ones ticked for the admin', async () => {
    const { links } = await fixture('Plain Words IT');
    const { token } = links.get('admin@client.example') as { token: string };
    const anonymous = await new PageClient(stack).get(`/offers/${token}`);
    expect(anonymous.html).toContain('<strong>Password administrator</strong><em> (required)</em>');
    expect(anonymous.html).toContain('Can reset the passwords of users who are not administrators.');
    expect(anonymous.html).toContain('<strong>User administrator</strong><em> (optional)</em>');
    expect(anonymous.html).toContain('Can create users, and reset the passwords of users who are not administrators.');
    expect(anonymous.html).toContain('<strong>Domain administrator</strong><em> (optional)</em>');
    expect(anonymous.html).not.toContain('type="checkbox"');

    const { browser } = await signedInClient(token);
    const page = await browser.get(`/offers/${token}`);
    expect(page.html).toContain('<legend>Roles to grant</legend>');
    for (const role of ['user_admin', 'domain_admin']) {
      expect(page.html).toContain(
        `<input id="role-${role}" type="checkbox" name="role.${role}" value="yes" checked=""/>`,
      );
      expect(page.html).toContain(`<label for="role-${role}">`);
    }
    expect(page.html).toContain(
      '<label for="role-user_admin">User administrator: can create users, and reset the passwords of users who are not administrators.</label>',
    );
    // The required role is listed, never a box to untick.
    expect(page.html).not.toContain('name="role.password_admin"');
  });
});

describe('accepting part of an offer', () => {
  it('campaign link: an unticked optional role is left out — on the delegation, its timeline, the audit and the owners’ email', async () => {
    const f = await fixture('Partial IT');
    const { token, delegationId } = f.links.get('admin@client.example') as { token: string; delegationId: string };
    const { browser, email } = await signedInClient(token);
    await browser.get(`/offers/${token}`);
    // user_admin unticked: only the box still ticked is sent.
    const accepted = await browser.post(`/offers/${token}/accept`, { 'role.domain_admin': 'yes' });
    expect(accepted.status).toBe(303);
    const granted = ['password_admin', 'domain_admin'];
    expect((await delegationRow(delegationId)).roles).toEqual(granted);

    const [event] = await stack.deps
      .sql`select detail from delegation_events where delegation_id = ${delegationId} and event = 'accept'`;
    expect(event?.detail).toEqual({ roles: granted, leftOut: ['user_admin'] });
    const [audit] = await stack.deps
      .sql`select detail from audit_events where target_id = ${delegationId} and action = 'delegation.accept'`;
    expect(audit?.detail).toEqual({ roles: granted, leftOut: ['user_admin'] });

    // process-acceptance (the worker) grants exactly that.
    expect((await waitActive(delegationId)).roles).toEqual(granted);
    const api = await stack.request(`/v1/delegations/${delegationId}`, { token: f.partner.token });
    expect(((await api.json()) as { roles: string[] }).roles).toEqual(granted);

    const toOwner = await mailTo(f.partner.email, /accepted your delegated administration offer$/);
    expect(toOwner.text).toContain('Roles granted: Password administrator, Domain administrator.');
    expect(toOwner.text).toContain('Optional roles Fabrikam left out: User administrator.');
    const receipt = await mailTo(email, /^You granted Partial IT/);
    expect(receipt.text).toContain('Roles granted: Password administrator, Domain administrator.');
    expect(receipt.text).not.toContain('User administrator');

    // The status page and the organization's page show the granted roles in plain words.
    const status = await browser.get(`/offers/${token}`);
    expect(status.html).toContain('data-state="active"');
    expect(status.html).toContain('<h2>Roles granted</h2>');
    expect(status.html).toContain('<strong>Domain administrator</strong>: Can add domains to your organization');
    expect(status.html).not.toContain('User administrator');
    const org = await browser.get('/org/delegations');
    expect(org.html).toContain('<strong>Password administrator</strong>');
    expect(org.html).toContain('<strong>Domain administrator</strong>');
    expect(org.html).not.toContain('User administrator');
  });

  it('reusable link: every optional role kept ticked is granted, and the owners’ email leaves nothing out', async () => {
    const f = await fixture('Whole IT');
    const { browser } = await signedInClient(f.reusableToken);
    await browser.get(`/offers/${f.reusableToken}`);
    const accepted = await browser.post(`/offers/${f.reusableToken}/accept`, {
      'role.user_admin': 'yes',
      'role.domain_admin': 'yes',
    });
    expect(accepted.status).toBe(303);
    const [row] = await stack.deps
      .sql`select id from delegations where offer_id = ${f.offer.id} and campaign_id is null and client_org_id is not null`;
    const id = row?.id as string;
    expect((await waitActive(id)).roles).toEqual(['password_admin', 'user_admin', 'domain_admin']);
    const [event] = await stack.deps
      .sql`select detail from delegation_events where delegation_id = ${id} and event = 'accept'`;
    expect(event?.detail).toEqual({
      via: 'reusable link',
      roles: ['password_admin', 'user_admin', 'domain_admin'],
      leftOut: [],
    });
    const toOwner = await mailTo(f.partner.email, /accepted your delegated administration offer$/);
    expect(toOwner.text).toContain('Roles granted: Password administrator, User administrator, Domain administrator.');
    expect(toOwner.text).not.toContain('left out');
  });

  it('reusable link: unticking every optional role grants the required ones only', async () => {
    const f = await fixture('Least IT');
    const { browser } = await signedInClient(f.reusableToken);
    await browser.get(`/offers/${f.reusableToken}`);
    expect((await browser.post(`/offers/${f.reusableToken}/accept`)).status).toBe(303);
    const [row] = await stack.deps
      .sql`select id from delegations where offer_id = ${f.offer.id} and campaign_id is null and client_org_id is not null`;
    expect((await waitActive(row?.id as string)).roles).toEqual(['password_admin']);
    const toOwner = await mailTo(f.partner.email, /accepted your delegated administration offer$/);
    expect(toOwner.text).toContain('Optional roles Fabrikam left out: User administrator, Domain administrator.');
  });

  it.each([
    [
      'a role the offer does not ask for',
      'role.global_admin',
      'Global administrator is not an optional role of this offer',
    ],
    ['a required role', 'role.password_admin', 'Password administrator is not an optional role of this offer'],
    ['an unknown role', 'role.mdm_admin', 'an unknown role was sent'],
    ['a prototype key', 'role.__proto__', 'an unknown role was sent'],
  ])('%s → a clear page, nothing changed', async (_label, field, message) => {
    const f = await fixture('Strict IT');
    const { token, delegationId } = f.links.get('admin@client.example') as { token: string; delegationId: string };
    const { browser } = await signedInClient(token);
    await browser.get(`/offers/${token}`);
    const before = await rowCounts(stack);
    const refused = await browser.post(`/offers/${token}/accept`, { 'role.user_admin': 'yes', [field]: 'yes' });
    expect(refused.status).toBe(422);
    expect(refused.html).toContain(`Nothing was granted: ${message}. Choose again below.`);
    expect(refused.html).toContain('Accept and grant access');
    expect(await rowCounts(stack)).toEqual(before);
    expect(await delegationRow(delegationId)).toEqual({ state: 'offered', roles: ['password_admin'] });
  });
});
