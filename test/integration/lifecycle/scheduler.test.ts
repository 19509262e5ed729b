import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLifecycle } from '../../../services/maintenance/lifecycle.ts';
import { reconcile } from '../../../services/maintenance/reconciler.ts';
import { acceptOffer } from '../../../services/offers/acceptance.ts';
import { waitFor } from '../../helpers/factories.ts';
import { activateDelegation, createClientAdmin, createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack({ env: { LIFECYCLE_INTERVAL_MS: '1000' } });
});
afterAll(() => stack.close());

const row = async (id: string) =>
  (await stack.deps.sql`select * from delegations where id = ${id}`)[0] as Record<string, unknown>;
const count = async (query: PromiseLike<readonly unknown[]>) => (await query).length;

describe('the lifecycle sweep (clock moved by editing dates)', () => {
  it('expires an active delegation past its end exactly once, and tells both sides', async () => {
    const fixture = await createOfferFixture(stack);
    const { delegationId } = await activateDelegation(stack, fixture);
    await stack.deps.sql`update delegations set ends_at = now() - interval '1 minute' where id = ${delegationId}`;
    await runLifecycle(stack.deps);
    await runLifecycle(stack.deps);
    expect((await row(delegationId)).state).toBe('expired');
    expect(
      await count(
        stack.deps.sql`select 1 from delegation_events where delegation_id = ${delegationId} and event = 'end_reached'`,
      ),
    ).toBe(1);
    expect(
      await count(stack.deps.sql`select 1 from emails where delegation_id = ${delegationId} and kind = 'expired'`),
    ).toBe(2);
  });

  it('auto-extends by 180 days exactly once', async () => {
    const fixture = await createOfferFixture(stack, { offer: { access: 'limited', autoExtend: true } });
    const { delegationId } = await activateDelegation(stack, fixture);
    const [{ end }] = (await stack.deps
      .sql`update delegations set ends_at = now() - interval '1 hour' where id = ${delegationId} returning ends_at as end`) as unknown as [
      { end: string },
    ];
    await Promise.all([runLifecycle(stack.deps), runLifecycle(stack.deps)]);
    await runLifecycle(stack.deps);
    const after = await row(delegationId);
    expect(after.state).toBe('active');
    expect((Date.parse(after.ends_at as string) - Date.parse(end)) / 86_400_000).toBeCloseTo(180, 5);
    expect(
      await count(
        stack.deps.sql`select 1 from delegation_events where delegation_id = ${delegationId} and event = 'auto_extend'`,
      ),
    ).toBe(1);
  });

  it('expires offers nobody answered for 90 days', async () => {
    const fixture = await createOfferFixture(stack, { recipients: ['old@client.example', 'new@client.example'] });
    const old = fixture.links.get('old@client.example')?.delegationId as string;
    const fresh = fixture.links.get('new@client.example')?.delegationId as string;
    await stack.deps.sql`update delegations set offered_at = now() - interval '91 days' where id = ${old}`;
    await runLifecycle(stack.deps);
    expect((await row(old)).state).toBe('expired');
    expect((await row(fresh)).state).toBe('offered');
  });

  it('sends each expiry notice once per threshold, and anew after an extension', async () => {
    const fixture = await createOfferFixture(stack, { offer: { durationDays: 365 } });
    const { delegationId } = await activateDelegation(stack, fixture);
    const notices = () =>
      stack.deps.sql`select dedupe_key from emails where delegation_id = ${delegationId} and kind = 'expiry-notice'`;

    await stack.deps.sql`update delegations set ends_at = now() + interval '20 days' where id = ${delegationId}`;
    await runLifecycle(stack.deps);
    await runLifecycle(stack.deps);
    expect((await notices()).filter((n) => String(n.dedupe_key).startsWith('expiry.30.'))).toHaveLength(2);
    expect(await notices()).toHaveLength(2);

    await stack.deps.sql`update delegations set ends_at = ends_at - interval '15 days' where id = ${delegationId}`;
    await runLifecycle(stack.deps);
    await stack.deps.sql`update delegations set ends_at = now() + interval '12 hours' where id = ${delegationId}`;
    await runLifecycle(stack.deps);
    await runLifecycle(stack.deps);
    const keys = (await notices()).map((n) => String(n.dedupe_key).split('.')[1]);
    expect(keys.filter((k) => k === '7')).toHaveLength(2);
    expect(keys.filter((k) => k === '1')).toHaveLength(2);

    const [sample] = await stack.deps
      .sql`select subject from emails where delegation_id = ${delegationId} and dedupe_key like 'expiry.1.%' limit 1`;
    expect(sample?.subject).toContain('ends tomorrow');
  });

  it('the reconciler gives a stuck acceptance another run', async () => {
    const fixture = await createOfferFixture(stack);
    const link = fixture.links.get('admin@client.example') as { token: string; delegationId: string };
    await acceptOffer(stack.deps, link.token, await createClientAdmin(stack));
    const delegations = stack.deps.queues.queue('delegations');
    await (await delegations.getJob(`process-acceptance.${link.delegationId}`))?.remove();
    await stack.deps
      .sql`update delegations set accepted_at = now() - interval '5 minutes' where id = ${link.delegationId}`;
    await reconcile(stack.deps, { minAgeSeconds: 120 });
    expect(await delegations.getJob(`process-acceptance.${link.delegationId}`)).toBeTruthy();
  });

  it('runs by itself once workers start (a BullMQ job scheduler)', async () => {
    const fixture = await createOfferFixture(stack);
    const { delegationId } = await activateDelegation(stack, fixture);
    await stack.deps.sql`update delegations set ends_at = now() - interval '1 minute' where id = ${delegationId}`;
    await stack.startWorkers();
    const schedulers = await stack.deps.queues.queue('maintenance').getJobSchedulers();
    expect(schedulers.map((s) => s.key)).toContain('lifecycle');
    await waitFor(async () => (await row(delegationId)).state === 'expired', 20_000);
  });
});
