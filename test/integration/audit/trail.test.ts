import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PageClient } from '../../helpers/browser-client.ts';
import { signedInClient } from '../../helpers/dashboard.ts';
import { createTestPartner, createTestStaff, readProblem, rowCounts, waitFor } from '../../helpers/factories.ts';
import { activateDelegation, createClientAdmin, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The audit trail as a product: one row per action that follows an operation to its end,
 * in words; paged, filtered and exported the same way by the client's page, the partner's
 * page and `GET /v1/audit`; and refusals in the trail of the organization they concern.
 */
let stack: TestStack;
let sink: SmtpSink;
let workersStarted = false;

beforeAll(async () => {
  // A mailbox that does not exist: the email after a change fails for good.
  sink = await startSmtpSink({
    rule: (address) => (address.startsWith('bounce') ? { code: 550, message: '5.1.1 no such mailbox' } : undefined),
  });
  stack = await createTestStack({ env: { SMTP_URL: sink.url } });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

async function workers() {
  if (!workersStarted) {
    workersStarted = true;
    await stack.startWorkers();
  }
}

async function fullDelegation(partnerName?: string) {
  const fixture = await createOfferFixture(stack, {
    partnerName,
    offer: { access: 'full', durationDays: 365 },
  });
  const { delegationId, admin } = await activateDelegation(stack, fixture);
  return { fixture, delegationId, admin, owner: fixture.partner.token };
}

async function finished(token: string, id: string) {
  return waitFor(async () => {
    const op = (await (await stack.request(`/v1/operations/${id}`, { token })).json()) as {
      state: string;
      result?: Record<string, unknown>;
    };
    return ['succeeded', 'failed', 'rejected'].includes(op.state) ? op : undefined;
  });
}

/** The rows of a trail page as a reader sees them: the table's cells, by column. */
function rowsOf(html: string) {
  const table = /<table data-audit="trail">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
  return [...table.matchAll(/<tr data-audit-row="(\d+)">([\s\S]*?)<\/tr>/g)].map(([, id, cells]) => {
    const text = [...(cells ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map(([, cell]) =>
      (cell ?? '')
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    );
    return {
      id: Number(id),
      when: text[0],
      who: text[1],
      where: text[2],
      what: text[3],
      about: text[4],
      outcome: text[5],
    };
  });
}

type AuditItem = {
  id: number;
  action: string;
  label: string;
  outcome: string;
  about: string | null;
  reason: string | null;
  orgId: string;
};

describe('what happens in the right organization’s trail', () => {
  it('an operation refused when it ran, a refused API call and a failed sign-in each appear where they belong', async () => {
    const { fixture, delegationId, admin, owner } = await fullDelegation('Refusals IT');
    const partnerId = fixture.partner.partnerId;
    // A password reset asked for, then the delegation ends before any worker runs it.
    const reset = await stack.request(`/v1/delegations/${delegationId}/users/${admin.userId}/password-reset`, {
      method: 'POST',
      token: owner,
    });
    expect(reset.status).toBe(202);
    const { operationId } = (await reset.json()) as { operationId: string };
    expect((await stack.request(`/v1/delegations/${delegationId}`, { method: 'DELETE', token: owner })).status).toBe(
      200,
    );
    await workers();
    expect((await finished(owner, operationId)).state).toBe('rejected');

    // A staff member with limited access tries to end another delegation: 403.
    const limited = await createTestStaff(stack, partnerId, ['password_admin']);
    const denied = await stack.request(`/v1/delegations/${delegationId}/extend`, {
      method: 'POST',
      token: limited,
      json: { days: 30 },
    });
    expect(denied.status).toBe(403);

    // The client's admin, and the partner's owner, each mistype their password once.
    for (const [ip, email] of [
      ['10.9.0.1', admin.email],
      ['10.9.0.2', fixture.partner.email],
    ] as const) {
      const browser = new PageClient(stack, ip);
      await browser.get('/sign-in');
      expect((await browser.post('/sign-in', { email, password: 'wrong wrong wrong' })).status).toBe(401);
    }

    const client = await signedInClient(stack, admin.userId);
    const clientRows = rowsOf((await client.get('/org/audit')).html);
    const refusedReset = clientRows.filter((r) => r.what === 'Reset a password');
    expect(refusedReset).toHaveLength(1);
    expect(refusedReset[0]?.outcome).toMatch(/^Refused Not allowed when it ran/);
    expect(refusedReset[0]?.about).toBe(admin.email);
    expect(refusedReset[0]?.where).toBe('Refusals IT');
    expect(
      clientRows.filter((r) => r.what === 'Entered a password to sign in' && /^Refused/.test(r.outcome ?? '')),
    ).toEqual([expect.objectContaining({ about: admin.email, outcome: 'Refused wrong password' })]);
    // Nothing of the partner's own refusals is shown to the client.
    expect(clientRows.some((r) => r.what === 'Was refused a request to the API')).toBe(false);
    expect(clientRows.some((r) => r.about === fixture.partner.email)).toBe(false);

    const owners = await signedInClient(stack, fixture.partner.userId);
    const partnerRows = rowsOf((await owners.get('/dashboard/audit')).html);
    expect(partnerRows.filter((r) => r.what === 'Reset a password')).toEqual([
      expect.objectContaining({ where: admin.orgName, outcome: expect.stringMatching(/^Refused/) }),
    ]);
    expect(partnerRows.filter((r) => r.what === 'Was refused a request to the API')).toEqual([
      expect.objectContaining({ about: expect.stringContaining('/extend'), outcome: 'Refused Not allowed' }),
    ]);
    expect(
      partnerRows.filter((r) => r.what === 'Entered a password to sign in' && /^Refused/.test(r.outcome ?? '')),
    ).toEqual([expect.objectContaining({ about: fixture.partner.email })]);
    // …and the client admin's mistyped password is not the partner's business.
    expect(partnerRows.some((r) => r.about === admin.email && r.what === 'Entered a password to sign in')).toBe(false);
  });
});

describe('one row per action, in words', () => {
  it('an operation is one row that follows it from in progress to done, naming what it was about', async () => {
    const { delegationId, admin, owner } = await fullDelegation();
    await workers();
    const created = (await (
      await stack.request(`/v1/delegations/${delegationId}/users`, {
        method: 'POST',
        token: owner,
        json: { displayName: 'Rae', userName: 'rae' },
      })
    ).json()) as { operationId: string };
    const user = await finished(owner, created.operationId);
    const email = String(user.result?.email);
    const reset = (await (
      await stack.request(`/v1/delegations/${delegationId}/users/${String(user.result?.userId)}/password-reset`, {
        method: 'POST',
        token: owner,
      })
    ).json()) as { operationId: string };
    expect((await finished(owner, reset.operationId)).state).toBe('succeeded');

    for (const id of [created.operationId, reset.operationId]) {
      const rows = await stack.deps
        .sql`select outcome from audit_events where target_id = ${id} or detail->>'operationId' = ${id}`;
      expect(rows.map((r) => r.outcome)).toEqual(['succeeded']);
    }
    const client = await signedInClient(stack, admin.userId);
    const page = await client.get('/org/audit');
    const rows = rowsOf(page.html);
    expect(rows.slice(0, 2).map((r) => [r.what, r.about, r.outcome])).toEqual([
      ['Reset a password', email, 'Done'],
      ['Create a user', email, 'Done'],
    ]);
    // No internal codes or raw ids on the page.
    const table = /<table data-audit="trail">[\s\S]*?<\/table>/.exec(page.html)?.[0] ?? '';
    expect(table).not.toMatch(/\b(op|usr|dlg|org)_[0-9a-f]{8}/);
    expect(table).not.toMatch(/operation\.|user\.password_reset|domain\.add/);
  });

  it('an operation that failed after changing something says what it changed, on the page and in the CSV', async () => {
    const { delegationId, admin, owner } = await fullDelegation();
    await workers();
    const created = (await (
      await stack.request(`/v1/delegations/${delegationId}/users`, {
        method: 'POST',
        token: owner,
        json: { displayName: 'Eve', userName: 'eve', notifyEmail: 'bounce@partner.example' },
      })
    ).json()) as { operationId: string };
    expect((await finished(owner, created.operationId)).state).toBe('failed');
    // The user is there, in the client's organization…
    const [user] = await stack.deps.sql`select email from users where org_id = ${admin.orgId} and email like 'eve@%'`;
    expect(user?.email).toBeTruthy();
    // …and the client's trail says so, though the operation failed.
    const client = await signedInClient(stack, admin.userId);
    const [row] = rowsOf((await client.get('/org/audit?action=operation.provision_user')).html);
    expect(row?.outcome).toMatch(/^Failed /);
    expect(row?.outcome).toContain(`Changed before it stopped: Created the user ${user?.email}`);
    const [record] = parse((await client.get('/org/audit.csv?action=operation.provision_user')).html, {
      columns: true,
    }) as Record<string, string>[];
    expect(record).toMatchObject({
      what: 'Create a user',
      outcome: 'Failed',
      changes: `Created the user ${user?.email}`,
    });
  });

  it('the delegations page shows the newest events and leads to the whole trail', async () => {
    const { admin } = await fullDelegation();
    const client = await signedInClient(stack, admin.userId);
    const page = await client.get('/org/delegations');
    expect(rowsOf(page.html).map((r) => r.what)).toContain('Accepted the delegation');
    expect(page.html).toContain('href="/org/audit"');
  });
});

describe('filters, pages and CSV', () => {
  async function seeded() {
    const partner = await createTestPartner(stack, 'Filters IT');
    const staff = await createTestStaff(stack, partner.partnerId, ['global_admin']);
    const [staffUser] = await stack.deps
      .sql`select user_id from api_tokens where org_id = ${partner.partnerId} and user_id <> ${partner.userId} limit 1`;
    const admin = await createClientAdmin(stack, 'Filtered Org');
    const insert = (actor: string | null, action: string, outcome: string, at: string, detail: object = {}) =>
      stack.deps
        .sql`insert into audit_events (actor_user_id, partner_id, org_id, action, target_type, target_id, outcome, detail, created_at)
        values (${actor}, ${partner.partnerId}, ${admin.orgId}, ${action}, 'operation', 'op_x', ${outcome}, ${JSON.stringify(detail)}::jsonb, ${at})`;
    await insert(partner.userId, 'operation.reset_password', 'succeeded', '2026-11-01T10:00:00Z');
    await insert(partner.userId, 'operation.reset_password', 'rejected', '2026-11-02T10:00:00Z', { error: 'ended' });
    await insert(staffUser?.user_id, 'operation.add_domain', 'failed', '2026-11-02T23:59:00Z', { name: 'a.example' });
    await insert(null, 'delegation.terminate', 'succeeded', '2026-11-03T00:00:00Z');
    await insert(partner.userId, 'api_token.create', 'succeeded', '2026-11-04T00:00:00Z', {
      name: '=HYPERLINK("http://evil.example","x")',
    });
    return { partner, staff, staffUser: String(staffUser?.user_id), admin };
  }

  const list = async (token: string, query: string) => {
    const response = await stack.request(`/v1/audit?${query}`, { token });
    expect(response.status).toBe(200);
    return (await response.json()) as { items: AuditItem[]; nextCursor: string | null };
  };

  it('narrows by who, what, outcome and days, the same on the API and the pages', async () => {
    const { partner, staffUser, admin } = await seeded();
    const t = partner.token;
    const base = `clientOrgId=${admin.orgId}`;
    expect(
      (await list(t, `${base}&actor=${encodeURIComponent(partner.email.toUpperCase())}`)).items.map((e) => e.action),
    ).toEqual(['api_token.create', 'operation.reset_password', 'operation.reset_password']);
    expect((await list(t, `${base}&actor=${staffUser}`)).items.map((e) => e.action)).toEqual(['operation.add_domain']);
    expect((await list(t, `${base}&actor=system`)).items.map((e) => e.action)).toEqual(['delegation.terminate']);
    expect((await list(t, `${base}&action=operation.reset_password&outcome=rejected`)).items).toEqual([
      expect.objectContaining({ label: 'Reset a password', outcome: 'rejected', reason: 'ended' }),
    ]);
    // A day as `to` takes the whole day.
    expect((await list(t, `${base}&from=2026-11-02&to=2026-11-02`)).items.map((e) => e.action)).toEqual([
      'operation.add_domain',
      'operation.reset_password',
    ]);
    expect((await list(t, `${base}&from=2026-11-02T12:00:00Z`)).items).toHaveLength(3);

    const client = await signedInClient(stack, admin.userId);
    const page = rowsOf((await client.get('/org/audit?action=operation.add_domain&outcome=failed')).html);
    expect(page.map((r) => [r.what, r.about, r.outcome])).toEqual([['Add a domain', 'a.example', 'Failed']]);
  });

  it('pages with a cursor through everything, and the CSV holds the same rows in the same words, formula-safe', async () => {
    const { partner, admin } = await seeded();
    const seen: AuditItem[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(partner.token, `clientOrgId=${admin.orgId}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(5);
    expect(new Set(seen.map((e) => e.id)).size).toBe(5);

    const csv = await stack.request(`/v1/audit?clientOrgId=${admin.orgId}&format=csv`, { token: partner.token });
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const text = await csv.text();
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""x"")"`);
    const records = parse(text, { columns: true }) as Record<string, string>[];
    expect(records.map((r) => [r.what, r.outcome])).toEqual(seen.map((e) => [e.label, expect.any(String)]));
    expect(records.map((r) => r.action)).toEqual(seen.map((e) => e.action));

    // The client's own export: the same rows, and the organization's own beginning (not the partner's doing).
    const client = await signedInClient(stack, admin.userId);
    const own = await client.get('/org/audit.csv');
    expect(own.response.headers.get('content-disposition')).toContain('attachment');
    const ownRecords = parse(own.html, { columns: true }) as Record<string, string>[];
    expect(ownRecords.map((r) => r.what)).toEqual([...seen.map((e) => e.label), 'Created the organization']);
  });

  it('refuses unclear filters with 422 VALIDATION_FAILED naming the field, and changes nothing', async () => {
    const { partner } = await seeded();
    const before = await rowCounts(stack);
    for (const [query, path] of [
      ['from=2026-11-05&to=2026-11-01', 'to'],
      ['from=yesterday', 'from'],
      ['to=2026-02-30', 'to'],
      ['action=user.delete_everything', 'action'],
      ['outcome=maybe', 'outcome'],
      ['cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['from=2026-11-05&to=2026-11-01&format=csv', 'to'],
    ] as const) {
      const response = await stack.request(`/v1/audit?${query}`, { token: partner.token });
      const problem = await readProblem(response);
      expect(problem.status, query).toBe(422);
      expect(problem.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(problem.errors)).toContain(path);
    }
    expect(await rowCounts(stack)).toEqual(before);
  });

  it('lets only a client’s global admins and a partner’s owners read their trails', async () => {
    const { partner, staff, admin } = await seeded();
    expect((await stack.request('/v1/audit', { token: staff })).status).toBe(403);
    const staffId = String(
      (
        await stack.deps
          .sql`select user_id from api_tokens where org_id = ${partner.partnerId} and user_id <> ${partner.userId} limit 1`
      )[0]?.user_id,
    );
    const staffPage = await signedInClient(stack, staffId);
    expect((await staffPage.get('/dashboard/audit')).status).toBe(403);
    expect((await staffPage.get('/dashboard/audit.csv')).status).toBe(403);
    expect((await staffPage.get('/org/audit')).status).toBe(403);

    await stack.deps.sql`update users set is_global_admin = false where id = ${admin.userId}`;
    const member = await signedInClient(stack, admin.userId);
    expect((await member.get('/org/audit')).status).toBe(403);
    expect((await member.get('/org/audit.csv')).status).toBe(403);

    // Another partner sees nothing of this one's client through clientOrgId.
    const stranger = await createTestPartner(stack);
    expect((await list(stranger.token, `clientOrgId=${admin.orgId}`)).items).toEqual([]);
    const anonymous = await new PageClient(stack).get('/org/audit');
    expect(anonymous.status).toBe(303);
  });
});
