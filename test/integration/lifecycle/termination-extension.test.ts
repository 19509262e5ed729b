import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestPartner, createTestStaff, readProblem } from '../../helpers/factories.ts';
import { activateDelegation, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

describe('DELETE /v1/delegations/{id}', () => {
  it('ends an active delegation, emails both sides, and is a no-op the second time', async () => {
    const fixture = await createOfferFixture(stack);
    const { admin, delegationId } = await activateDelegation(stack, fixture);
    const first = await stack.request(`/v1/delegations/${delegationId}`, {
      method: 'DELETE',
      token: fixture.partner.token,
    });
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ delegationId, state: 'terminated' });
    const [row] = await stack.deps.sql`select state, ended_by from delegations where id = ${delegationId}`;
    expect(row).toEqual({ state: 'terminated', ended_by: fixture.partner.userId });
    const emails = await stack.deps
      .sql`select to_email from emails where delegation_id = ${delegationId} and kind = 'terminated'`;
    expect(new Set(emails.map((e) => e.to_email))).toEqual(
      new Set([fixture.partner.email.toLowerCase(), admin.email.toLowerCase()]),
    );

    const second = await stack.request(`/v1/delegations/${delegationId}`, {
      method: 'DELETE',
      token: fixture.partner.token,
    });
    expect(second.status).toBe(200);
    const events = await stack.deps
      .sql`select count(*)::int as n from delegation_events where delegation_id = ${delegationId} and event = 'terminate'`;
    expect(events[0]?.n).toBe(1);
  });

  it('withdraws an offered delegation before anyone answered, telling the recipient', async () => {
    const fixture = await createOfferFixture(stack);
    const { delegationId } = fixture.links.get('admin@client.example') as { delegationId: string };
    const response = await stack.request(`/v1/delegations/${delegationId}`, {
      method: 'DELETE',
      token: fixture.partner.token,
    });
    expect(response.status).toBe(200);
    const emails = await stack.deps.sql`select to_email from emails where delegation_id = ${delegationId}`;
    expect(emails.map((e) => e.to_email)).toContain('admin@client.example');
  });

  it('refuses declined delegations (409), other partners (404) and staff without full access (403)', async () => {
    const fixture = await createOfferFixture(stack);
    const { delegationId } = fixture.links.get('admin@client.example') as { delegationId: string };
    const limited = await createTestStaff(stack, fixture.partner.partnerId, ['password_admin']);
    const forbidden = await stack.request(`/v1/delegations/${delegationId}`, { method: 'DELETE', token: limited });
    expect(forbidden.status).toBe(403);
    const other = await createTestPartner(stack);
    const notFound = await stack.request(`/v1/delegations/${delegationId}`, { method: 'DELETE', token: other.token });
    expect(notFound.status).toBe(404);
    await stack.deps.sql`update delegations set state = 'declined' where id = ${delegationId}`;
    const conflict = await stack.request(`/v1/delegations/${delegationId}`, {
      method: 'DELETE',
      token: fixture.partner.token,
    });
    expect(conflict.status).toBe(409);
    expect((await readProblem(conflict)).code).toBe('INVALID_TRANSITION');
  });
});

describe('POST /v1/delegations/{id}/extend', () => {
  it('never moves the end without the client: 409 AMENDMENT_REQUIRED, pointing to an amendment', async () => {
    // The defect: a 1-day, full-access, non-renewing delegation was pushed two years ahead
    // by two calls, without the client being asked.
    const fixture = await createOfferFixture(stack, { offer: { access: 'full', durationDays: 1, autoExtend: false } });
    const { delegationId } = await activateDelegation(stack, fixture);
    const [before] = await stack.deps.sql`select ends_at from delegations where id = ${delegationId}`;
    for (const days of [365, 365]) {
      const response = await stack.request(`/v1/delegations/${delegationId}/extend`, {
        method: 'POST',
        token: fixture.partner.token,
        json: { days },
      });
      expect(response.status).toBe(409);
      const problem = (await readProblem(response)) as { code: string; detail?: string };
      expect(problem.code).toBe('AMENDMENT_REQUIRED');
      expect(problem.detail).toContain(`/v1/delegations/${delegationId}/amendments`);
    }
    const [after] = await stack.deps.sql`select ends_at from delegations where id = ${delegationId}`;
    expect(new Date(after?.ends_at as string).toISOString()).toBe(new Date(before?.ends_at as string).toISOString());
    const events = await stack.deps
      .sql`select 1 from delegation_events where delegation_id = ${delegationId} and event = 'extend'`;
    expect(events).toHaveLength(0);

    const tooFar = await stack.request(`/v1/delegations/${delegationId}/extend`, {
      method: 'POST',
      token: fixture.partner.token,
      json: { days: 7000 },
    });
    expect(tooFar.status).toBe(422);
  });

  it('does not bring back a delegation whose end has passed', async () => {
    const fixture = await createOfferFixture(stack);
    const { delegationId } = await activateDelegation(stack, fixture);
    await stack.deps.sql`update delegations set ends_at = now() - interval '1 minute' where id = ${delegationId}`;
    const response = await stack.request(`/v1/delegations/${delegationId}/extend`, {
      method: 'POST',
      token: fixture.partner.token,
      json: { days: 10 },
    });
    expect(response.status).toBe(409);
  });

  it('only extends active delegations', async () => {
    const fixture = await createOfferFixture(stack);
    const { delegationId } = fixture.links.get('admin@client.example') as { delegationId: string };
    const response = await stack.request(`/v1/delegations/${delegationId}/extend`, {
      method: 'POST',
      token: fixture.partner.token,
      json: { days: 10 },
    });
    expect(response.status).toBe(409);
  });
});

describe('GET /v1/delegations?expiringWithinDays=', () => {
  it('lists active delegations ending within the window', async () => {
    const fixture = await createOfferFixture(stack, {
      recipients: ['soon@client.example', 'later@client.example'],
      offer: { durationDays: 365 },
    });
    const soon = await activateDelegation(stack, fixture, 'soon@client.example');
    await activateDelegation(stack, fixture, 'later@client.example');
    await stack.deps.sql`update delegations set ends_at = now() + interval '10 days' where id = ${soon.delegationId}`;
    const page = (await (
      await stack.request('/v1/delegations?expiringWithinDays=30', { token: fixture.partner.token })
    ).json()) as {
      items: { id: string }[];
    };
    expect(page.items.map((d) => d.id)).toEqual([soon.delegationId]);
  });
});
