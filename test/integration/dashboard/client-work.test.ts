import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStaffMember, signedInClient } from '../../helpers/dashboard.ts';
import { waitFor } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture, type OfferFixture } from '../../helpers/offer-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The work an operator does in a client's organization from the dashboard: found by
 * company, its page, a user added and a password reset, a domain added — each through the
 * same service and permission checks as the API, once per form submission, and each
 * operation's result in words.
 */
let stack: TestStack;
let sink: SmtpSink;
let fixture: OfferFixture;
let delegationId: string;
let orgId: string;

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url }, workers: true });
  fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
  ({ delegationId } = await activateDelegation(stack, fixture, 'admin@client.example', 'Contoso Pharmacy'));
  const [row] = await stack.deps.sql`select client_org_id from delegations where id = ${delegationId}`;
  orgId = row?.client_org_id as string;
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

/** The value of the hidden field `name` in the form posting to `action`. */
function formField(html: string, action: string, name: string): string {
  const form = html.split('<form').find((f) => f.includes(`action="${action}"`));
  const value = form?.match(new RegExp(`name="${name}" value="([^"]*)"`))?.[1];
  if (!value) throw new Error(`no ${name} in the form to ${action}`);
  return value;
}

/** Operations of the delegation, oldest first, as the database has them. */
const operationsOf = async () =>
  stack.deps.sql`select id, kind, state from operations where delegation_id = ${delegationId} order by id`;

describe('a client organization from the dashboard', () => {
  it('is found by company and opens on its own page, with its delegation', async () => {
    const browser = await signedInClient(stack, fixture.partner.userId);
    const found = await browser.get('/dashboard/search?q=contoso');
    expect(found.status).toBe(200);
    expect(found.html).toContain(`href="/dashboard/clients/${orgId}"`);
    const page = await browser.get(`/dashboard/clients/${orgId}`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Contoso Pharmacy');
    expect(page.html).toContain(`data-delegation="${delegationId}"`);
    expect(page.html).toContain('Add a user');
    expect(page.html).toContain('Add a domain');
  });

  it('adds a user once however often the form is sent, and says what came of it in words', async () => {
    const browser = await signedInClient(stack, fixture.partner.userId);
    const here = `/dashboard/clients/${orgId}`;
    const page = await browser.get(here);
    const action = `/dashboard/delegations/${delegationId}/users`;
    const fields = {
      displayName: 'Jordan Lee',
      userName: 'jordan',
      notifyEmail: 'it@partner.example',
      next: here,
      submission: formField(page.html, action, 'submission'),
    };
    const first = await browser.post(action, fields);
    expect(first.status).toBe(303);
    expect(first.location).toBe(`${here}?notice=operation-queued`);
    const again = await browser.post(action, fields);
    expect(again.status).toBe(303);
    expect(again.location).toContain('notice=already-submitted');
    const provisions = (await operationsOf()).filter((o) => o.kind === 'provision_user');
    expect(provisions).toHaveLength(1);

    const id = provisions[0]?.id as string;
    await waitFor(async () => (await operationsOf()).find((o) => o.id === id && o.state === 'succeeded'));
    const detail = await browser.get(`/dashboard/operations/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.html).toMatch(/Created jordan@[^ <]+ — temporary password sent to it@partner\.example/);
    expect(detail.html).not.toContain('{&quot;');
    const list = await browser.get(here);
    expect(list.html).toContain('Jordan Lee');
    expect(list.html).toMatch(/Created jordan@/);
  });

  it('resets a password from the users list, and adds a domain with the record to publish', async () => {
    const browser = await signedInClient(stack, fixture.partner.userId);
    const here = `/dashboard/delegations/${delegationId}`;
    const page = await browser.get(here);
    const [user] = await stack.deps.sql`select id, email from users where org_id = ${orgId} and email like 'jordan@%'`;
    const reset = `/dashboard/delegations/${delegationId}/users/${user?.id as string}/password-reset`;
    const resetDone = await browser.post(reset, { next: here, submission: formField(page.html, reset, 'submission') });
    expect(resetDone.status).toBe(303);
    const addDomain = `/dashboard/delegations/${delegationId}/domains`;
    const added = await browser.post(addDomain, {
      name: 'contoso-pharmacy.example',
      next: here,
      submission: formField(page.html, addDomain, 'submission'),
    });
    expect(added.status).toBe(303);
    await waitFor(async () => {
      const ops = await operationsOf();
      return ops.filter((o) => o.kind !== 'provision_user').every((o) => o.state === 'succeeded') && ops.length === 3;
    });
    const after = await browser.get(here);
    expect(after.html).toContain(`Reset the password of ${user?.email as string} — temporary password sent to`);
    expect(after.html).toMatch(/Added contoso-pharmacy\.example, not verified yet: publish a TXT record/);
    expect(after.html).toContain('data-domain="contoso-pharmacy.example"');
    // The temporary passwords went out by mail: two, to the address asked and to the requester.
    await waitFor(async () => sink.messages.filter((m) => /password/i.test(m.subject ?? '')).length >= 2);
  });

  it('a form refused (the address taken) can be sent again at once with another name', async () => {
    const browser = await signedInClient(stack, fixture.partner.userId);
    const here = `/dashboard/delegations/${delegationId}`;
    const action = `${here}/users`;
    const submission = formField((await browser.get(here)).html, action, 'submission');
    const taken = await browser.post(action, {
      displayName: 'Jordan Again',
      userName: 'jordan',
      next: here,
      submission,
    });
    expect(taken.status).toBe(409);
    const other = await browser.post(action, { displayName: 'Sam Roe', userName: 'sam', next: here, submission });
    expect(other.status).toBe(303);
    expect(other.location).toBe(`${here}?notice=operation-queued`);
    const provisions = await stack.deps.sql`
      select input->>'email' as email from operations where delegation_id = ${delegationId} and kind = 'provision_user'`;
    expect(provisions.map((p) => String(p.email).split('@')[0]).sort()).toEqual(['jordan', 'sam']);
  });

  it('offers only the forms the viewer may use, and the service refuses the rest', async () => {
    const limited = await createStaffMember(stack, fixture.partner.token, 'limited');
    const browser = await signedInClient(stack, limited.userId);
    const page = await browser.get(`/dashboard/delegations/${delegationId}`);
    expect(page.status).toBe(200);
    expect(page.html).not.toContain('Add a user');
    expect(page.html).not.toContain('End this delegation');
    const refused = await browser.post(`/dashboard/delegations/${delegationId}/users`, {
      displayName: 'Sneaky',
      userName: 'sneaky',
    });
    expect(refused.status).toBe(403);
    expect((await stack.deps.sql`select 1 from users where email like 'sneaky@%'`).length).toBe(0);
  });

  it('changes a delegation: a reduction at once and once per submission, an addition left to the client', async () => {
    const other = await createOfferFixture(stack, {
      offer: { roles: [{ role: 'user_admin' }, { role: 'domain_admin' }], durationDays: 90 },
    });
    const { delegationId: id } = await activateDelegation(stack, other, 'admin@client.example', 'Northwind');
    const browser = await signedInClient(stack, other.partner.userId);
    const here = `/dashboard/delegations/${id}`;
    const page = await browser.get(here);
    const action = `${here}/amendments`;
    expect(page.html).toContain('name="remove.domain_admin"');
    expect(page.html).toContain('name="add.directory_reader"');
    const fields = { 'remove.domain_admin': 'on', next: here, submission: formField(page.html, action, 'submission') };
    const first = await browser.post(action, fields);
    expect(first.location).toBe(`${here}?notice=amendment-applied`);
    const again = await browser.post(action, fields);
    expect(again.status).toBe(303);
    expect(again.location).toContain('notice=already-submitted');
    const [row] = await stack.deps.sql`select roles from delegations where id = ${id}`;
    expect(row?.roles).toEqual(['user_admin']);
    expect((await stack.deps.sql`select 1 from amendments where delegation_id = ${id}`).length).toBe(1);

    const asked = await browser.post(action, {
      'add.directory_reader': 'on',
      extendDays: '30',
      next: here,
      submission: formField((await browser.get(here)).html, action, 'submission'),
    });
    expect(asked.location).toBe(`${here}?notice=amendment-pending`);
    const [after] = await stack.deps.sql`select roles from delegations where id = ${id}`;
    expect(after?.roles).toEqual(['user_admin']);
    const [pending] = await stack.deps
      .sql`select state from amendments where delegation_id = ${id} order by id desc limit 1`;
    expect(pending?.state).toBe('pending');
    // Nothing to change is refused and changes nothing.
    const empty = await browser.post(action, { next: here });
    expect(empty.status).toBe(422);
  });

  it('ends the delegation only after asking', async () => {
    const other = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 30 } });
    const { delegationId: id } = await activateDelegation(stack, other, 'admin@client.example', 'Fabrikam');
    const browser = await signedInClient(stack, other.partner.userId);
    const page = await browser.get(`/dashboard/delegations/${id}`);
    expect(page.html).toContain('End this delegation');
    const ask = await browser.get(`/dashboard/delegations/${id}/end?next=/dashboard/delegations/${id}`);
    expect(ask.status).toBe(200);
    expect(ask.html).toContain('Your staff lose all access');
    const [still] = await stack.deps.sql`select state from delegations where id = ${id}`;
    expect(still?.state).toBe('active');
    const ended = await browser.post(`/dashboard/delegations/${id}/end`, { next: `/dashboard/delegations/${id}` });
    expect(ended.status).toBe(303);
    const [row] = await stack.deps.sql`select state from delegations where id = ${id}`;
    expect(row?.state).toBe('terminated');
  });
});
