import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terminateByClient } from '../../../services/delegations/termination.ts';
import { acceptOffer, processAcceptance } from '../../../services/offers/acceptance.ts';
import { activateDelegation, createClientAdmin, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack();
});
afterAll(() => stack.close());

const delegation = async (id: string) =>
  (await stack.deps.sql`select * from delegations where id = ${id}`)[0] as Record<string, unknown>;

describe('process-acceptance', () => {
  it('activates until now + duration, records who accepted, and writes both emails once', async () => {
    const fixture = await createOfferFixture(stack, { partnerName: 'Tailspin IT', offer: { durationDays: 30 } });
    const { admin, delegationId, outcome } = await activateDelegation(stack, fixture);
    expect(outcome).toEqual({ outcome: 'activated' });
    const row = await delegation(delegationId);
    expect(row.state).toBe('active');
    expect(row.accepted_by).toBe(admin.userId);
    const days = (Date.parse(row.ends_at as string) - Date.parse(row.activated_at as string)) / 86_400_000;
    expect(days).toBeCloseTo(30, 5);

    // Run again (a redelivered job): nothing more happens.
    expect(await processAcceptance(stack.deps, delegationId)).toEqual({ outcome: 'skipped', state: 'active' });
    const emails = await stack.deps
      .sql`select kind, to_email, subject from emails where delegation_id = ${delegationId} order by kind`;
    expect(emails).toEqual([
      {
        kind: 'accepted',
        to_email: fixture.partner.email.toLowerCase(),
        subject: 'Client Org accepted your delegated administration offer',
      },
      {
        kind: 'receipt',
        to_email: admin.email.toLowerCase(),
        subject: 'You granted Tailspin IT delegated administration',
      },
    ]);
    const events = await stack.deps
      .sql`select event from delegation_events where delegation_id = ${delegationId} order by id`;
    expect(events.map((e) => e.event)).toEqual(['send_succeeded', 'accept', 'activate']);
  });

  it('fails with a reason when the offer was already withdrawn or expired at the moment of acceptance', async () => {
    const fixture = await createOfferFixture(stack);
    const link = fixture.links.get('admin@client.example') as { token: string; delegationId: string };
    await acceptOffer(stack.deps, link.token, await createClientAdmin(stack));
    // As if the acceptance had raced a revoke that committed first.
    await stack.deps
      .sql`update offers set revoked_at = (select accepted_at from delegations where id = ${link.delegationId}) - interval '1 second' where id = ${fixture.offer.id}`;
    expect(await processAcceptance(stack.deps, link.delegationId)).toEqual({
      outcome: 'failed',
      reason: 'The partner withdrew the offer before it could be granted',
    });
    expect(await delegation(link.delegationId)).toMatchObject({
      state: 'failed',
      failure_reason: 'The partner withdrew the offer before it could be granted',
    });
  });

  it('grants an acceptance made in time even if the offer expires or is revoked before the job runs', async () => {
    const fixture = await createOfferFixture(stack, {
      recipients: ['late-expiry@client.example', 'late-revoke@client.example'],
    });
    const expiry = fixture.links.get('late-expiry@client.example') as { token: string; delegationId: string };
    const revoke = fixture.links.get('late-revoke@client.example') as { token: string; delegationId: string };
    await acceptOffer(stack.deps, expiry.token, await createClientAdmin(stack));
    await acceptOffer(stack.deps, revoke.token, await createClientAdmin(stack));
    await stack.deps
      .sql`update offers set expires_at = now() + interval '1 second', revoked_at = now() + interval '1 second' where id = ${fixture.offer.id}`;
    await new Promise((r) => setTimeout(r, 1100));
    expect(await processAcceptance(stack.deps, expiry.delegationId)).toEqual({ outcome: 'activated' });
    expect(await processAcceptance(stack.deps, revoke.delegationId)).toEqual({ outcome: 'activated' });
  });

  it('fails when the admin who accepted is no longer a global administrator', async () => {
    const fixture = await createOfferFixture(stack);
    const link = fixture.links.get('admin@client.example') as { token: string; delegationId: string };
    const admin = await createClientAdmin(stack);
    await acceptOffer(stack.deps, link.token, admin);
    await stack.deps.sql`update users set is_global_admin = false where id = ${admin.userId}`;
    const outcome = await processAcceptance(stack.deps, link.delegationId);
    expect(outcome.outcome).toBe('failed');
    expect((await delegation(link.delegationId)).state).toBe('failed');
  });

  it('a late job cannot re-activate a delegation terminated while it was accepting', async () => {
    const fixture = await createOfferFixture(stack);
    const link = fixture.links.get('admin@client.example') as { token: string; delegationId: string };
    const admin = await createClientAdmin(stack);
    await acceptOffer(stack.deps, link.token, admin);
    await terminateByClient(stack.deps, admin, link.delegationId);
    expect(await processAcceptance(stack.deps, link.delegationId)).toEqual({ outcome: 'skipped', state: 'terminated' });
    expect((await delegation(link.delegationId)).state).toBe('terminated');
    const activated = await stack.deps
      .sql`select 1 from delegation_events where delegation_id = ${link.delegationId} and event = 'activate'`;
    expect(activated).toHaveLength(0);
  });

  it('grants only a grant of the offer: roles beyond what it asked for → failed, nothing granted', async () => {
    const fixture = await createOfferFixture(stack, {
      offer: { roles: [{ role: 'password_admin' }, { role: 'user_admin', optional: true }] },
    });
    const link = fixture.links.get('admin@client.example') as { token: string; delegationId: string };
    await acceptOffer(stack.deps, link.token, await createClientAdmin(stack), undefined, ['user_admin']);
    expect((await delegation(link.delegationId)).roles).toEqual(['password_admin', 'user_admin']);
    // As if the row had been changed behind the acceptance's back.
    await stack.deps
      .sql`update delegations set roles = array['password_admin', 'global_admin'] where id = ${link.delegationId}`;
    expect(await processAcceptance(stack.deps, link.delegationId)).toEqual({
      outcome: 'failed',
      reason: 'The roles to grant are not those the offer asked for',
    });
    expect((await delegation(link.delegationId)).state).toBe('failed');
  });

  it('leaves out the optional roles the caller did not keep (none kept by default)', async () => {
    const fixture = await createOfferFixture(stack, {
      offer: { roles: [{ role: 'password_admin' }, { role: 'domain_admin', optional: true }] },
    });
    const { delegationId, outcome } = await activateDelegation(stack, fixture);
    expect(outcome).toEqual({ outcome: 'activated' });
    expect((await delegation(delegationId)).roles).toEqual(['password_admin']);
    const [audit] = await stack.deps
      .sql`select detail from audit_events where target_id = ${delegationId} and action = 'delegation.activate'`;
    expect(audit?.detail).toEqual({ roles: ['password_admin'], leftOut: ['domain_admin'] });
  });

  it('two acceptances for one organization at once leave one live delegation', async () => {
    const fixture = await createOfferFixture(stack, { recipients: ['a@client.example', 'b@client.example'] });
    const admin = await createClientAdmin(stack);
    const results = await Promise.all(
      ['a@client.example', 'b@client.example', 'a@client.example'].map((r) =>
        acceptOffer(stack.deps, fixture.links.get(r)?.token as string, admin),
      ),
    );
    const live = await stack.deps
      .sql`select id from delegations where client_org_id = ${admin.orgId} and state in ('accepting', 'active')`;
    expect(live).toHaveLength(1);
    expect(results.filter((r) => !r.alreadyLive)).toHaveLength(1);
    expect(new Set(results.map((r) => r.delegationId))).toEqual(new Set([live[0]?.id]));
  });
});
