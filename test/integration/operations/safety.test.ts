import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PageClient } from '../../helpers/browser-client.ts';
import { createTestStaff, readProblem, waitFor } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let sink: SmtpSink;
let refuseOnce = new Set<string>();

beforeAll(async () => {
  sink = await startSmtpSink({
    rule: (address) => {
      if (refuseOnce.has(address)) {
        refuseOnce.delete(address);
        return { code: 451, message: '4.3.0 Try again later' };
      }
      return undefined;
    },
  });
  stack = await createTestStack({ env: { SMTP_URL: sink.url, MAIL_BACKOFF_MS: '100' } });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

async function fullDelegation() {
  const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 365 } });
  const { delegationId, admin } = await activateDelegation(stack, fixture);
  return { fixture, delegationId, admin, owner: fixture.partner.token };
}

async function finished(token: string, id: string) {
  return waitFor(async () => {
    const op = (await (await stack.request(`/v1/operations/${id}`, { token })).json()) as {
      state: string;
      result?: Record<string, unknown>;
      error?: string;
    };
    return ['succeeded', 'failed', 'rejected'].includes(op.state) ? op : undefined;
  });
}

describe('delegated operations cannot take over or hide', () => {
  it("a global admin's temporary password goes to the admin, never to the partner", async () => {
    const { delegationId, admin, owner } = await fullDelegation();
    await stack.startWorkers();
    const response = await stack.request(`/v1/delegations/${delegationId}/users/${admin.userId}/password-reset`, {
      method: 'POST',
      token: owner,
    });
    const op = await finished(owner, ((await response.json()) as { operationId: string }).operationId);
    expect(op.state).toBe('succeeded');
    expect(op.result?.temporaryPasswordSentTo).toBe(admin.email);
    const mails = sink.messages.filter((m) => m.subject?.startsWith('Password reset'));
    expect(mails.at(-1)?.to).toEqual([admin.email.toLowerCase()]);
  });

  it('a delegation past its end date allows nothing, even before the sweep', async () => {
    const { delegationId, owner } = await fullDelegation();
    await stack.deps.sql`update delegations set ends_at = now() - interval '1 day' where id = ${delegationId}`;
    const response = await stack.request(`/v1/delegations/${delegationId}/users`, { token: owner });
    expect(response.status).toBe(403);
    expect((await readProblem(response)).code).toBe('NOT_AUTHORIZED');
  });

  it('an operation rejected half-way still reports, and audits, what it changed', async () => {
    const { delegationId, owner, admin } = await fullDelegation();
    refuseOnce = new Set(['slow-desk@partner.example']);
    await stack.workers?.close();
    stack.workers = undefined;
    const created = await stack.request(`/v1/delegations/${delegationId}/users`, {
      method: 'POST',
      token: owner,
      json: { displayName: 'Half', userName: 'half', notifyEmail: 'slow-desk@partner.example' },
    });
    const { operationId } = (await created.json()) as { operationId: string };
    await stack.startWorkers();
    // The user is created; the email is refused once (451) and the operation waits to retry…
    await waitFor(async () => (await stack.deps.sql`select 1 from users where email like 'half@%'`).length === 1);
    await waitFor(async () => (await stack.deps.sql`select error from operations where id = ${operationId}`)[0]?.error);
    // …and the delegation ends before the retry.
    await stack.request(`/v1/delegations/${delegationId}`, { method: 'DELETE', token: owner });
    const op = await finished(owner, operationId);
    expect(op.state).toBe('rejected');
    const [row] = await stack.deps.sql`select result from operations where id = ${operationId}`;
    expect(row?.result).toMatchObject({ userId: expect.stringMatching(/^usr_/) });
    // One row tells the whole story: refused in the end, with the user it had created.
    const trail = await stack.deps
      .sql`select action, outcome, detail from audit_events where org_id = ${admin.orgId} and (action like 'user.%' or action like 'operation.%') order by id`;
    expect(trail.map((t) => `${t.action}:${t.outcome}`)).toEqual(['operation.provision_user:rejected']);
    expect(trail[0]?.detail.changes).toEqual([
      expect.objectContaining({ action: 'user.create', targetId: row?.result.userId }),
    ]);
    expect(trail[0]?.detail.error).toMatch(/Not allowed when it ran/);
  });

  it('staff with limited access see only the operations they asked for', async () => {
    const { delegationId, owner, fixture } = await fullDelegation();
    await stack.request(`/v1/delegations/${delegationId}/users`, {
      method: 'POST',
      token: owner,
      json: { displayName: 'V', userName: 'visible' },
    });
    const limited = await createTestStaff(stack, fixture.partner.partnerId, ['password_admin']);
    const page = (await (await stack.request('/v1/operations', { token: limited })).json()) as { items: unknown[] };
    expect(page.items).toEqual([]);
    const all = (await (await stack.request('/v1/operations', { token: owner })).json()) as { items: unknown[] };
    expect(all.items.length).toBeGreaterThan(0);
  });
});

describe('Idempotency-Key on every POST', () => {
  it('a repeated campaign POST returns the first response and records nothing more', async () => {
    const { fixture } = await fullDelegation();
    const send = () =>
      stack.request('/v1/campaigns', {
        method: 'POST',
        token: fixture.partner.token,
        headers: { 'idempotency-key': 'campaign-1' },
        json: { offerId: fixture.offer.id, recipients: [{ email: 'once@client.example' }] },
      });
    const first = await send();
    const second = await send();
    expect(second.status).toBe(202);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(await second.json()).toEqual(await first.json());
    const campaigns = await stack.deps
      .sql`select count(*)::int as n from campaigns where offer_id = ${fixture.offer.id}`;
    expect(campaigns[0]?.n).toBe(2); // the fixture's own campaign, and this one once
    const other = await stack.request('/v1/campaigns', {
      method: 'POST',
      token: fixture.partner.token,
      headers: { 'idempotency-key': 'campaign-1' },
      json: { offerId: fixture.offer.id, recipients: [{ email: 'other@client.example' }] },
    });
    expect(other.status).toBe(422);
    expect((await readProblem(other)).code).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('a failed request releases its key; a repeated invitation replays its 202 and sends nothing', async () => {
    const { owner } = await fullDelegation();
    const bad = await stack.request('/v1/staff', {
      method: 'POST',
      token: owner,
      headers: { 'idempotency-key': 'staff-1' },
      json: { email: 'nope' },
    });
    expect(bad.status).toBe(422);
    const body = { email: 'newtech@partner.example', displayName: 'New', access: 'limited' };
    const send = () =>
      stack.request('/v1/staff', {
        method: 'POST',
        token: owner,
        headers: { 'idempotency-key': 'staff-1' },
        json: body,
      });
    const good = await send();
    expect(good.status).toBe(202);
    const again = await send();
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(await good.json());
    const [counts] = await stack.deps.sql`
      select (select count(*)::int from staff_invitations where email = ${body.email}) as invitations,
        (select count(*)::int from emails where to_email = ${body.email}) as emails`;
    expect(counts).toEqual({ invitations: 1, emails: 1 });
  });

  it('one-time secrets are never kept', async () => {
    const { owner } = await fullDelegation();
    const send = () =>
      stack.request('/v1/offers', {
        method: 'POST',
        token: owner,
        headers: { 'idempotency-key': 'offer-secret-1' },
        json: { name: 'Once', access: 'limited' },
      });
    const good = await send();
    expect(good.status).toBe(201);
    const { url } = (await good.json()) as { url: string };
    const stored = JSON.stringify(await stack.deps.sql`select * from idempotency_keys`);
    expect(stored).not.toContain(url.split('/').at(-1));
    expect((await send()).status).toBe(409);
  });
});

describe('changing one’s own password', () => {
  it('needs the current password unless it is the forced change', async () => {
    const { admin } = await fullDelegation();
    const browser = new PageClient(stack);
    await browser.get('/sign-in');
    await browser.post('/sign-in', { email: admin.email, password: 'correct horse battery staple' });
    await browser.get('/account/password');
    const without = await browser.post('/account/password', {
      password: 'a brand new password',
      repeat: 'a brand new password',
    });
    expect(without.status).toBe(401);
    const withIt = await browser.post('/account/password', {
      current: 'correct horse battery staple',
      password: 'a brand new password',
      repeat: 'a brand new password',
    });
    expect(withIt.status).toBe(303);
  });
});
