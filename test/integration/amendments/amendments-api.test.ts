import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../lib/secrets.ts';
import {
  amendmentLinkIn,
  createActiveDelegation,
  delegationTerms,
  endLinkIn,
  postAmendment,
} from '../../helpers/amendment-fixtures.ts';
import { createTestPartner, createTestStaff, waitFor } from '../../helpers/factories.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

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

/** What the SMTP server received for `to` whose subject contains `words`, once it has `count` of them. */
async function mailsTo(to: string, words: string, count: number) {
  const pick = () => sink.messages.filter((m) => m.to.includes(to.toLowerCase()) && m.subject?.includes(words));
  await waitFor(async () => pick().length >= count);
  return pick();
}

async function events(delegationId: string, token: string) {
  const response = await stack.request(`/v1/delegations/${delegationId}`, { token });
  return ((await response.json()) as { events: { event: string; detail: Record<string, unknown> | null }[] }).events;
}

describe('POST /v1/delegations/{id}/amendments: reductions', () => {
  it('apply at once to the same delegation, with before and after in its timeline and audit, and the client admins are emailed', async () => {
    const { delegationId, owner, admin, fixture } = await createActiveDelegation(
      stack,
      ['directory_reader', 'password_admin', 'user_admin'],
      { autoExtend: true },
    );
    const before = await delegationTerms(stack, delegationId);

    const { status, body } = await postAmendment(stack, owner, delegationId, {
      removeRoles: ['directory_reader'],
      autoExtend: false,
    });
    expect(status).toBe(202);
    expect(body).toMatchObject({
      id: expect.stringMatching(/^amd_/),
      state: 'applied',
      kind: 'reduction',
      delegationId,
      change: { addRoles: [], removeRoles: ['directory_reader'], extendDays: null, autoExtend: false },
      before: { roles: ['directory_reader', 'password_admin', 'user_admin'], autoExtend: true },
      after: { roles: ['password_admin', 'user_admin'], autoExtend: false },
    });
    expect(body).not.toHaveProperty('appliedAtOnce');

    const after = await delegationTerms(stack, delegationId);
    expect(after).toMatchObject({ id: delegationId, state: 'active', roles: ['password_admin', 'user_admin'] });
    expect(after.auto_extend).toBe(false);
    expect(after.ends_at.toISOString()).toBe(before.ends_at.toISOString());

    const amend = (await events(delegationId, owner)).filter((e) => e.event === 'amend');
    expect(amend).toHaveLength(1);
    expect(amend[0]?.detail).toMatchObject({
      amendmentId: body.id,
      before: { roles: ['directory_reader', 'password_admin', 'user_admin'], autoExtend: true },
      after: { roles: ['password_admin', 'user_admin'], autoExtend: false },
    });
    const audit = await stack.deps.sql`
      select action, actor_user_id, partner_id, detail from audit_events
      where org_id = ${admin.orgId} and action like 'amendment.%'`;
    expect(audit).toEqual([
      {
        action: 'amendment.reduce',
        actor_user_id: fixture.partner.userId,
        partner_id: fixture.partner.partnerId,
        detail: expect.objectContaining({
          amendmentId: body.id,
          before: expect.objectContaining({ roles: ['directory_reader', 'password_admin', 'user_admin'] }),
          after: expect.objectContaining({ roles: ['password_admin', 'user_admin'] }),
        }),
      },
    ]);

    const [mail] = await mailsTo(admin.email, 'reduced', 1);
    expect(mail?.text).toContain('Removes Directory reader');
    expect(mail?.text).toContain('Turns automatic renewal off');
    expect(endLinkIn(mail as never)).toContain(`/end/${delegationId}/`);
    // Nothing is asked of the partner's owners for a reduction.
    expect(sink.messages.filter((m) => m.subject?.includes('reduced') && m.to.includes(fixture.partner.email))).toEqual(
      [],
    );

    const list = await stack.request(`/v1/delegations/${delegationId}/amendments`, { token: owner });
    expect(list.status).toBe(200);
    expect(((await list.json()) as { items: { id: string; state: string }[] }).items).toEqual([
      expect.objectContaining({ id: body.id, state: 'applied' }),
    ]);
  });
});

describe('POST /v1/delegations/{id}/amendments: additions', () => {
  it('wait for the client: pending for 30 days, nothing changed, a personal link to each global admin (stored hashed)', async () => {
    const { delegationId, owner, admin } = await createActiveDelegation(stack, ['password_admin']);
    const second = `second-${admin.orgId.slice(-8)}@client.example`;
    await stack.deps.sql`insert into users (id, org_id, email, display_name, password_hash, is_global_admin)
      values (${`usr_${'5'.repeat(24)}${admin.orgId.slice(-8)}`}, ${admin.orgId}, ${second}, 'Second', 'x', true)`;
    const before = await delegationTerms(stack, delegationId);

    const { status, body } = await postAmendment(stack, owner, delegationId, {
      addRoles: ['domain_admin'],
      extendDays: 30,
    });
    expect(status).toBe(202);
    expect(body).toMatchObject({ state: 'pending', kind: 'addition', answeredAt: null });
    const expires = new Date(body.expiresAt as string).getTime();
    expect(Math.abs(expires - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);
    expect((body.after as { roles: string[] }).roles).toEqual(['password_admin', 'domain_admin']);
    expect(new Date((body.after as { endsAt: string }).endsAt).getTime()).toBe(
      before.ends_at.getTime() + 30 * 86_400_000,
    );
    expect(await delegationTerms(stack, delegationId)).toEqual(before);

    const [first] = await mailsTo(admin.email, 'asks for more', 1);
    const [other] = await mailsTo(second, 'asks for more', 1);
    const links = [amendmentLinkIn(first as never), amendmentLinkIn(other as never)];
    expect(links[0]).toBeDefined();
    expect(links[1]).toBeDefined();
    expect(links[0]).not.toBe(links[1]);
    expect(first?.text).toContain('Adds Domain administrator: can add domains');
    expect(first?.text).toContain('Ends on:');
    expect(endLinkIn(first as never)).toContain(`/end/${delegationId}/`);

    const stored = await stack.deps.sql`select token_hash from amendment_links where amendment_id = ${body.id}`;
    const tokens = links.map((l) => (l as string).split('/').pop() as string);
    expect(new Set(stored.map((r) => r.token_hash))).toEqual(new Set(tokens.map(sha256Hex)));
    // The tokens themselves are stored nowhere in the amendment tables.
    const [plain] = await stack.deps.sql`
      select (select count(*) from amendments a where strpos(row_to_json(a)::text, ${tokens[0] as string}) > 0)
           + (select count(*) from amendment_links l where strpos(row_to_json(l)::text, ${tokens[0] as string}) > 0)
           as n`;
    expect(Number(plain?.n)).toBe(0);
  });

  it('a mixed request applies the reduction at once and keeps the addition pending', async () => {
    const { delegationId, owner } = await createActiveDelegation(stack, ['helpdesk_admin', 'user_admin'], {
      autoExtend: true,
    });
    const { status, body } = await postAmendment(stack, owner, delegationId, {
      removeRoles: ['helpdesk_admin'],
      addRoles: ['domain_admin'],
    });
    expect(status).toBe(202);
    expect(body).toMatchObject({
      state: 'pending',
      kind: 'addition',
      change: { addRoles: ['domain_admin'], removeRoles: [] },
      before: { roles: ['user_admin'] },
      after: { roles: ['user_admin', 'domain_admin'] },
      appliedAtOnce: {
        state: 'applied',
        kind: 'reduction',
        change: { removeRoles: ['helpdesk_admin'], addRoles: [] },
        before: { roles: ['helpdesk_admin', 'user_admin'] },
        after: { roles: ['user_admin'] },
      },
    });
    expect((await delegationTerms(stack, delegationId)).roles).toEqual(['user_admin']);
    const list = (await (
      await stack.request(`/v1/delegations/${delegationId}/amendments`, { token: owner })
    ).json()) as { items: { state: string }[] };
    expect(list.items.map((a) => a.state)).toEqual(['pending', 'applied']);
  });

  it('turning auto-extend on is an addition; so is any extension, up to 730 days from now', async () => {
    const { delegationId, owner } = await createActiveDelegation(stack, ['password_admin']);
    const tooFar = await postAmendment(stack, owner, delegationId, { extendDays: 400 });
    expect(tooFar.status).toBe(422);
    expect(JSON.stringify(tooFar.body)).toContain('more than 730 days from now');
    const { status, body } = await postAmendment(stack, owner, delegationId, { extendDays: 365, autoExtend: true });
    expect(status).toBe(202);
    expect(body).toMatchObject({ state: 'pending', kind: 'addition', after: { autoExtend: true } });
  });
});

describe('POST /v1/delegations/{id}/amendments: bad input changes nothing', () => {
  const cases: [string, string[], Record<string, unknown>, number, string, RegExp][] = [
    ['an unknown role', ['password_admin'], { addRoles: ['mdm_admin'] }, 422, 'VALIDATION_FAILED', /addRoles/],
    [
      'adding and removing the same role',
      ['password_admin', 'user_admin'],
      { addRoles: ['domain_admin'], removeRoles: ['domain_admin'] },
      422,
      'VALIDATION_FAILED',
      /both added and removed/,
    ],
    [
      'removing the last role',
      ['password_admin', 'user_admin'],
      { removeRoles: ['password_admin', 'user_admin'] },
      422,
      'VALIDATION_FAILED',
      /end the delegation instead/,
    ],
    [
      'adding a role already held',
      ['password_admin'],
      { addRoles: ['password_admin'] },
      422,
      'VALIDATION_FAILED',
      /already granted/,
    ],
    [
      'removing a role not held',
      ['password_admin', 'user_admin'],
      { removeRoles: ['domain_admin'] },
      422,
      'VALIDATION_FAILED',
      /not granted/,
    ],
    ['an empty amendment', ['password_admin'], {}, 422, 'VALIDATION_FAILED', /change something/],
    [
      'empty lists',
      ['password_admin'],
      { addRoles: [], removeRoles: [] },
      422,
      'VALIDATION_FAILED',
      /change something/,
    ],
    [
      'auto-extend on with global admin',
      ['global_admin'],
      { autoExtend: true },
      422,
      'VALIDATION_FAILED',
      /never allowed with global_admin/,
    ],
    [
      'adding global admin while auto-extend is on',
      ['password_admin'],
      { addRoles: ['global_admin'] },
      422,
      'VALIDATION_FAILED',
      /never allowed with global_admin/,
    ],
    ['auto-extend already off', ['password_admin'], { autoExtend: false }, 422, 'VALIDATION_FAILED', /already off/],
    ['a field it does not know', ['password_admin'], { days: 5 }, 422, 'VALIDATION_FAILED', /./],
    ['no days', ['password_admin'], { extendDays: 0 }, 422, 'VALIDATION_FAILED', /extendDays/],
    [
      'a role named twice',
      ['password_admin'],
      { addRoles: ['user_admin', 'user_admin'] },
      422,
      'VALIDATION_FAILED',
      /twice/,
    ],
  ];

  it.each(cases)('%s', async (_name, roles, body, status, code, words) => {
    // The auto-extend-on cases need a delegation that auto-extends (never with global admin).
    const autoExtend = JSON.stringify(body).includes('global_admin') && !roles.includes('global_admin');
    const { delegationId, owner } = await createActiveDelegation(stack, roles, { autoExtend });
    const before = await delegationTerms(stack, delegationId);
    const response = await stack.request(`/v1/delegations/${delegationId}/amendments`, {
      method: 'POST',
      token: owner,
      json: body,
    });
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as { code: string };
    expect(problem.code).toBe(code);
    expect(JSON.stringify(problem)).toMatch(words);
    expect(await delegationTerms(stack, delegationId)).toEqual(before);
    const [count] = await stack.deps
      .sql`select count(*)::int as n from amendments where delegation_id = ${delegationId}`;
    expect(count?.n).toBe(0);
  });

  it('an ended, expired or past-its-end delegation → 409 INVALID_TRANSITION', async () => {
    for (const end of ['terminate', 'expire', 'past end'] as const) {
      const { delegationId, owner } = await createActiveDelegation(stack, ['password_admin']);
      if (end === 'terminate')
        await stack.request(`/v1/delegations/${delegationId}`, { method: 'DELETE', token: owner });
      if (end === 'expire') await stack.deps.sql`update delegations set state = 'expired' where id = ${delegationId}`;
      if (end === 'past end')
        await stack.deps.sql`update delegations set ends_at = now() - interval '1 minute' where id = ${delegationId}`;
      for (const body of [{ removeRoles: ['password_admin'] }, { extendDays: 10 }]) {
        const { status, body: problem } = await postAmendment(stack, owner, delegationId, body);
        expect(status, `${end} ${JSON.stringify(body)}`).toBe(409);
        expect(problem.code).toBe('INVALID_TRANSITION');
      }
      const [count] = await stack.deps
        .sql`select count(*)::int as n from amendments where delegation_id = ${delegationId}`;
      expect(count?.n).toBe(0);
    }
  });

  it('one addition waits at a time: a second → 409 CONFLICT naming the first, and nothing of it applies', async () => {
    const { delegationId, owner } = await createActiveDelegation(stack, ['password_admin', 'user_admin']);
    const first = await postAmendment(stack, owner, delegationId, { addRoles: ['domain_admin'] });
    expect(first.status).toBe(202);
    const second = await postAmendment(stack, owner, delegationId, {
      removeRoles: ['user_admin'],
      extendDays: 5,
    });
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({ code: 'CONFLICT', pendingAmendmentId: first.body.id });
    // The reducing part of the refused request did not apply either.
    expect((await delegationTerms(stack, delegationId)).roles).toEqual(['password_admin', 'user_admin']);
    // A reduction alone is never held up by a pending addition.
    const reduce = await postAmendment(stack, owner, delegationId, { removeRoles: ['user_admin'] });
    expect(reduce.status).toBe(202);
  });
});

describe('who may amend', () => {
  it('owners and staff with full access; limited staff 403, staff without access 403, other partners 404', async () => {
    const { delegationId, fixture, owner } = await createActiveDelegation(stack, ['password_admin', 'user_admin']);
    const limited = await createTestStaff(stack, fixture.partner.partnerId, ['password_admin', 'user_admin']);
    const none = await createTestStaff(stack, fixture.partner.partnerId, []);
    const full = await createTestStaff(stack, fixture.partner.partnerId, ['global_admin']);
    const other = await createTestPartner(stack);
    const body = { removeRoles: ['user_admin'] };
    expect((await postAmendment(stack, limited, delegationId, body)).status).toBe(403);
    expect((await postAmendment(stack, none, delegationId, body)).status).toBe(403);
    expect((await postAmendment(stack, other.token, delegationId, body)).status).toBe(404);
    expect((await delegationTerms(stack, delegationId)).roles).toEqual(['password_admin', 'user_admin']);
    expect((await postAmendment(stack, full, delegationId, body)).status).toBe(202);

    const list = (token: string) => stack.request(`/v1/delegations/${delegationId}/amendments`, { token });
    // Access none reads no partner data, amendments included.
    expect((await list(none)).status).toBe(403);
    expect((await list(owner)).status).toBe(200);
    expect((await list(other.token)).status).toBe(404);
    expect((await stack.request(`/v1/delegations/${delegationId}/amendments`)).status).toBe(401);
  });
});
