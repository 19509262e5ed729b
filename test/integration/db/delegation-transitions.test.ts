import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../core/errors.ts';
import { delegations } from '../../../db/schema/index.ts';
import { applyTransition, applyTransitionToMany, systemActor } from '../../../services/delegations/transitions.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let ids: string[];

beforeAll(async () => {
  stack = await createTestStack();
  const { token } = await createTestPartner(stack);
  const offer = await createTestOffer(stack, token);
  const recipients = Array.from({ length: 10 }, (_, i) => ({ email: `t${i}@x.example` }));
  await stack.request('/v1/campaigns', { method: 'POST', token, json: { offerId: offer.id, recipients } });
  ids = (await stack.deps.sql`select id from delegations order by id`).map((r) => r.id as string);
});
afterAll(() => stack.close());

const stateOf = async (id: string) =>
  (await stack.deps.db.select({ state: delegations.state }).from(delegations).where(eq(delegations.id, id)))[0]?.state;
const eventsOf = async (id: string) =>
  stack.deps.sql`select event, from_state, to_state from delegation_events where delegation_id = ${id} order by id`;

describe('applyTransition', () => {
  it('moves the state and writes its event row together', async () => {
    const id = ids[0] as string;
    expect(
      await applyTransition(stack.deps.db, {
        delegationId: id,
        from: 'invited',
        event: 'send_succeeded',
        actor: systemActor,
      }),
    ).toBe(true);
    expect(await stateOf(id)).toBe('offered');
    expect(await eventsOf(id)).toEqual([{ event: 'send_succeeded', from_state: 'invited', to_state: 'offered' }]);
  });

  it('does nothing and says so when the row is no longer in the expected state', async () => {
    const id = ids[0] as string;
    expect(
      await applyTransition(stack.deps.db, {
        delegationId: id,
        from: 'invited',
        event: 'send_failed',
        actor: systemActor,
      }),
    ).toBe(false);
    expect(await stateOf(id)).toBe('offered');
    expect(await eventsOf(id)).toHaveLength(1);
  });

  it('refuses an illegal transition with INVALID_TRANSITION and writes nothing', async () => {
    const id = ids[1] as string;
    await expect(
      applyTransition(stack.deps.db, { delegationId: id, from: 'invited', event: 'activate', actor: systemActor }),
    ).rejects.toSatisfy((e) => e instanceof AppError && e.code === 'INVALID_TRANSITION');
    expect(await stateOf(id)).toBe('invited');
    expect(await eventsOf(id)).toHaveLength(0);
  });

  it('lets exactly one of many concurrent transitions from the same state win', async () => {
    const id = ids[2] as string;
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        applyTransition(stack.deps.db, {
          delegationId: id,
          from: 'invited',
          event: i % 2 ? 'send_succeeded' : 'terminate',
          actor: systemActor,
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await eventsOf(id)).toHaveLength(1);
  });

  it('rolls back with the surrounding transaction', async () => {
    const id = ids[3] as string;
    await expect(
      stack.deps.db.transaction(async (tx) => {
        await applyTransition(tx, { delegationId: id, from: 'invited', event: 'send_succeeded', actor: systemActor });
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await stateOf(id)).toBe('invited');
    expect(await eventsOf(id)).toHaveLength(0);
  });
});

describe('applyTransitionToMany', () => {
  it('moves every matching row from each listed state, one event each', async () => {
    const rest = ids.slice(4);
    await applyTransition(stack.deps.db, {
      delegationId: rest[0] as string,
      from: 'invited',
      event: 'send_succeeded',
      actor: systemActor,
    });
    const [before] = await stack.deps
      .sql`select count(*)::int as n from delegations where state in ('invited', 'offered')`;
    const moved = await applyTransitionToMany(stack.deps.db, {
      where: eq(delegations.recipientEmail, delegations.recipientEmail),
      from: ['invited', 'offered'],
      event: 'terminate',
      actor: { type: 'partner_user', id: 'usr_x' },
    });
    expect(moved).toHaveLength(before?.n);
    expect(moved.length).toBeGreaterThanOrEqual(9);
    const states = await stack.deps.sql`select distinct state from delegations`;
    expect(states).toEqual([{ state: 'terminated' }]);
    const [events] = await stack.deps
      .sql`select count(*)::int as n from delegation_events where event = 'terminate' and actor_id = 'usr_x'`;
    expect(events?.n).toBe(moved.length);
    expect(await eventsOf(rest[0] as string)).toEqual([
      { event: 'send_succeeded', from_state: 'invited', to_state: 'offered' },
      { event: 'terminate', from_state: 'offered', to_state: 'terminated' },
    ]);
  });
});
