import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { roleCatalogue, roles } from '../../../core/roles.ts';
import { offerLinkToken, randomToken, sha256Hex } from '../../../lib/secrets.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { createStaffMember, signedInClient } from '../../helpers/dashboard.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let owner: Awaited<ReturnType<typeof createTestPartner>>;
let ownerBrowser: PageClient;

beforeAll(async () => {
  stack = await createTestStack();
  owner = await createTestPartner(stack, 'Northwind');
  ownerBrowser = await signedInClient(stack, owner.userId);
});
afterAll(() => stack.close());

/** The hidden form key of the form posting to `action` on `html`. */
function submissionOf(html: string, action: string): string {
  const form = html.slice(html.indexOf(`action="${action}"`));
  const key = /name="submission" value="([^"]+)"/.exec(form)?.[1];
  if (!key) throw new Error(`no form key in the form posting to ${action}`);
  return key;
}

/** The create form as a browser sends it, from a fresh page load. */
async function offerForm(browser: PageClient, fields: Record<string, string>) {
  const page = await browser.get('/dashboard/offers');
  return { submission: submissionOf(page.html, '/dashboard/offers'), ...fields };
}

const offerCount = async () => (await stack.deps.sql`select count(*)::int as n from offers`)[0]?.n as number;

describe('creating an offer on the dashboard', () => {
  it('offers a checkbox for every role of the catalogue, and creates the offer the API would', async () => {
    const page = await ownerBrowser.get('/dashboard/offers');
    expect(page.status).toBe(200);
    expect(page.html).toContain('href="/dashboard/offers" aria-current="page"');
    for (const role of roles) {
      expect(page.html).toContain(`name="role:${role}"`);
      expect(page.html).toContain(roleCatalogue[role].label);
    }
    const fields = await offerForm(ownerBrowser, {
      name: 'Helpdesk 2027',
      'role:user_admin': 'on',
      'role:domain_admin': 'on',
      'optional:domain_admin': 'on',
      durationDays: '365',
      expiresInDays: '30',
      autoExtend: 'on',
    });
    const created = await ownerBrowser.post('/dashboard/offers', fields);
    expect(created.status).toBe(303);
    const id = /^\/dashboard\/offers\/(ofr_[0-9a-f]{32})\?notice=offer-created$/.exec(created.location ?? '')?.[1];
    expect(id).toBeDefined();
    const [row] = await stack.deps.sql`
      select name, roles, optional_roles, duration_days, auto_extend, created_by,
             round(extract(epoch from expires_at - created_at) / 86400)::int as days
      from offers where id = ${id as string}`;
    expect(row).toEqual({
      name: 'Helpdesk 2027',
      roles: ['user_admin'],
      optional_roles: ['domain_admin'],
      duration_days: 365,
      auto_extend: true,
      created_by: owner.userId,
      days: 30,
    });
    const [audit] = await stack.deps
      .sql`select actor_user_id from audit_events where action = 'offer.create' and target_id = ${id as string}`;
    expect(audit?.actor_user_id).toBe(owner.userId);

    // The offer's page shows its link, which resolves to the offer's page for clients.
    const shown = await ownerBrowser.get(created.location as string);
    expect(shown.html).toContain('Offer created.');
    const url = `${stack.config.publicUrl}/offers/${offerLinkToken(stack.config.linkSecret, id as string)}`;
    expect(shown.html).toContain(`data-testid="offer-link"`);
    expect(shown.html).toContain(`value="${url}"`);
    const landing = await new PageClient(stack).get(new URL(url).pathname);
    expect(landing.status).toBe(200);
    expect(landing.html).toContain('Northwind');
  });

  it('creates one offer for a double submit or a reload of the same form', async () => {
    const before = await offerCount();
    const fields = await offerForm(ownerBrowser, {
      name: 'Once',
      'role:password_admin': 'on',
      durationDays: '30',
      expiresInDays: '30',
    });
    const [first, second] = await Promise.all([
      ownerBrowser.post('/dashboard/offers', fields),
      ownerBrowser.post('/dashboard/offers', fields),
    ]);
    const reload = await ownerBrowser.post('/dashboard/offers', fields);
    expect(first.status).toBe(303);
    expect(second.location).toBe(first.location);
    expect(reload.location).toBe(first.location);
    expect(await offerCount()).toBe(before + 1);
    // A fresh page load is a new form: a second offer of the same terms is the partner's choice.
    const again = await ownerBrowser.post('/dashboard/offers', {
      ...fields,
      submission: (await offerForm(ownerBrowser, {})).submission,
    });
    expect(again.location).not.toBe(first.location);
    expect(await offerCount()).toBe(before + 2);
  });

  it.each([
    ['no role ticked', { name: 'No roles', durationDays: '30', expiresInDays: '30' }, 'roles'],
    [
      'only optional roles',
      {
        name: 'Optional',
        'role:user_admin': 'on',
        'optional:user_admin': 'on',
        durationDays: '30',
        expiresInDays: '30',
      },
      'at least one role must be required',
    ],
    [
      'auto-extend with global admin',
      { name: 'Full', 'role:global_admin': 'on', autoExtend: 'on', durationDays: '30', expiresInDays: '30' },
      'auto-extend is not allowed with full access',
    ],
    [
      'a duration past the cap',
      { name: 'Long', 'role:user_admin': 'on', durationDays: '731', expiresInDays: '30' },
      'durationDays',
    ],
    ['no name', { name: '', 'role:user_admin': 'on', durationDays: '30', expiresInDays: '30' }, 'name'],
  ])('refuses %s beside the form, keeping what was typed, and creates nothing', async (_label, fields, message) => {
    const before = await offerCount();
    const answer = await ownerBrowser.post('/dashboard/offers', await offerForm(ownerBrowser, fields));
    expect(answer.status).toBe(422);
    expect(answer.html).toContain('The offer was not created');
    expect(answer.html).toContain(message);
    if (fields.name) expect(answer.html).toContain(`value="${fields.name}"`);
    expect(await offerCount()).toBe(before);
  });

  it('refuses the form without the CSRF token, or from another site', async () => {
    const before = await offerCount();
    const fields = await offerForm(ownerBrowser, {
      name: 'Forged',
      'role:user_admin': 'on',
      durationDays: '30',
      expiresInDays: '30',
    });
    expect((await ownerBrowser.post('/dashboard/offers', fields, 'x'.repeat(43))).status).toBe(403);
    const offsite = await ownerBrowser.stack.request('/dashboard/offers', {
      method: 'POST',
      body: new URLSearchParams({ ...fields, csrf: ownerBrowser.cookies.get('mandate_csrf') ?? '' }).toString(),
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
        cookie: [...ownerBrowser.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    expect(offsite.status).toBe(403);
    expect(await offerCount()).toBe(before);
  });
});

describe('who sees what of an offer', () => {
  it('shows the link to owners and to its maker, not to other staff; staff without access see no offers', async () => {
    const limited = await createStaffMember(stack, owner.token, 'limited');
    const colleague = await createStaffMember(stack, owner.token, 'limited');
    const none = await createStaffMember(stack, owner.token, 'none');
    const staffBrowser = await signedInClient(stack, limited.userId);
    const created = await staffBrowser.post(
      '/dashboard/offers',
      await offerForm(staffBrowser, {
        name: 'By staff',
        'role:password_admin': 'on',
        durationDays: '30',
        expiresInDays: '30',
      }),
    );
    expect(created.status).toBe(303);
    const path = (created.location as string).split('?')[0] as string;
    expect((await staffBrowser.get(path)).html).toContain('data-testid="offer-link"');
    expect((await ownerBrowser.get(path)).html).toContain('data-testid="offer-link"');
    const other = await (await signedInClient(stack, colleague.userId)).get(path);
    expect(other.status).toBe(200);
    expect(other.html).not.toContain('data-testid="offer-link"');
    expect(other.html).not.toContain(`${stack.config.publicUrl}/offers/`);
    expect(other.html).toContain('shown to the partner’s owners and to whoever made the offer');

    const noAccess = await signedInClient(stack, none.userId);
    expect((await noAccess.get('/dashboard/offers')).status).toBe(403);
    expect((await noAccess.get(path)).status).toBe(403);
    expect((await noAccess.get('/dashboard')).html).not.toContain('href="/dashboard/offers"');
    const refused = await noAccess.post('/dashboard/offers', {
      submission: randomToken(16),
      name: 'Sneaky',
      'role:user_admin': 'on',
      durationDays: '30',
      expiresInDays: '30',
    });
    expect(refused.status).toBe(403);
    expect((await stack.deps.sql`select count(*)::int as n from offers where name = 'Sneaky'`)[0]?.n).toBe(0);
  });

  it('says an older offer’s link was shown once (a random token cannot be rebuilt)', async () => {
    const old = await createTestOffer(stack, owner.token, { name: 'Before derived links' });
    await stack.deps.sql`update offers set token_hash = ${sha256Hex(randomToken(32))} where id = ${old.id}`;
    const page = await ownerBrowser.get(`/dashboard/offers/${old.id}`);
    expect(page.html).toContain('data-testid="offer-link-hidden"');
    expect(page.html).toContain('was shown once');
    expect(page.html).not.toContain(`/offers/${offerLinkToken(stack.config.linkSecret, old.id)}`);
  });

  it('never shows another partner’s offer, nor lets its people withdraw it', async () => {
    const offer = await createTestOffer(stack, owner.token, { name: 'Private terms' });
    const other = await createTestPartner(stack, 'Other');
    const browser = await signedInClient(stack, other.userId);
    expect((await browser.get(`/dashboard/offers/${offer.id}`)).status).toBe(404);
    expect((await browser.get('/dashboard/offers')).html).not.toContain('Private terms');
    const revoke = await browser.post(`/dashboard/offers/${offer.id}/revoke`, { submission: randomToken(16) });
    expect(revoke.status).toBe(404);
    const [row] = await stack.deps.sql`select revoked_at from offers where id = ${offer.id}`;
    expect(row?.revoked_at).toBeNull();
  });
});

describe('withdrawing an offer', () => {
  it('withdraws it once, its link stops working, and its waiting recipients are withdrawn', async () => {
    const offer = await createTestOffer(stack, owner.token, { name: 'To withdraw' });
    await stack.request('/v1/campaigns', {
      method: 'POST',
      token: owner.token,
      json: { offerId: offer.id, recipients: [{ email: 'a@client.example' }, { email: 'b@client.example' }] },
    });
    const page = await ownerBrowser.get(`/dashboard/offers/${offer.id}`);
    const fields = { submission: submissionOf(page.html, `/dashboard/offers/${offer.id}/revoke`) };
    const [first, second] = await Promise.all([
      ownerBrowser.post(`/dashboard/offers/${offer.id}/revoke`, fields),
      ownerBrowser.post(`/dashboard/offers/${offer.id}/revoke`, fields),
    ]);
    expect(first.location).toBe(`/dashboard/offers/${offer.id}?notice=offer-revoked&n=2`);
    expect(second.location).toBe(first.location);
    const after = await ownerBrowser.get(first.location as string);
    expect(after.html).toContain('2 recipients still waiting for an answer were withdrawn');
    expect(after.html).toMatch(/data-testid="offer-state">withdrawn</);
    expect(after.html).not.toContain('Withdraw this offer');
    const [audits] = await stack.deps.sql`
      select count(*)::int as n from audit_events where action = 'offer.revoke' and target_id = ${offer.id}`;
    expect(audits?.n).toBe(1);
    expect((await new PageClient(stack).get(new URL(offer.url).pathname)).status).toBe(410);
  });
});
