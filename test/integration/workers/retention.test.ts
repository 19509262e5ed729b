import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../../services/maintenance/reconciler.ts';
import { pruneExpiredRows } from '../../../services/maintenance/retention.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Finished rows are kept for their table's retention and then pruned by the reconciler's
 * housekeeping; what is unfinished, or still needed, stays whatever its age.
 */
let stack: TestStack;
let offer: { partnerId: string; offerId: string };

beforeAll(async () => {
  stack = await createTestStack({
    env: {
      EMAIL_RETENTION_DAYS: '30',
      OPERATION_RETENTION_DAYS: '40',
      DELEGATION_EVENT_RETENTION_DAYS: '50',
      EXPIRY_NOTICE_RETENTION_DAYS: '20',
      BOUNCE_REPORT_RETENTION_DAYS: '15',
      SIGNUP_RETENTION_DAYS: '3',
      DEV_MAIL_RETENTION_DAYS: '5',
    },
  });
  const partner = await createTestPartner(stack);
  offer = { partnerId: partner.partnerId, offerId: (await createTestOffer(stack, partner.token)).id };
});
afterAll(() => stack.close());

const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
const tag = () => randomBytes(5).toString('hex');

async function delegation(state: string, endedDaysAgo: number | null, updatedDaysAgo = endedDaysAgo ?? 0) {
  const id = `dlg_ret_${tag()}`;
  await stack.deps.sql`insert into delegations (id, partner_id, offer_id, state, roles, duration_days, auto_extend,
      ended_at, created_at, updated_at)
    values (${id}, ${offer.partnerId}, ${offer.offerId}, ${state}, ${['helpdesk_admin']}, 90, false,
      ${endedDaysAgo === null ? null : ago(endedDaysAgo)}, ${ago(400)}, ${ago(updatedDaysAgo)})`;
  return id;
}

const count = async (query: Promise<{ n: number }[]>) => Number((await query)[0]?.n);

describe('retention of finished rows', () => {
  it('reads its settings', () => {
    expect(stack.config).toMatchObject({
      emailRetentionDays: 30,
      operationRetentionDays: 40,
      delegationEventRetentionDays: 50,
      expiryNoticeRetentionDays: 20,
      bounceReportRetentionDays: 15,
      signupRetentionDays: 3,
      devMailRetentionDays: 5,
    });
  });

  it('outbox: sent and failed emails older than the retention go; newer ones and pending ones stay', async () => {
    const kind = `retention-${tag()}`;
    const email = (state: string, days: number) => {
      const id = `eml_${tag()}`;
      return stack.deps.sql`insert into emails (id, dedupe_key, kind, to_email, subject, text_body, html_body,
          message_id, state, created_at)
        values (${id}, ${id}, ${kind}, 'a@example.com', 's', 't', 'h', ${`<${id}@m>`}, ${state}, ${ago(days)})`;
    };
    for (const [state, days] of [
      ['sent', 31],
      ['failed', 90],
      ['sent', 29],
      ['failed', 1],
      ['pending', 400],
    ] as const)
      await email(state, days);
    await reconcile(stack.deps, { minAgeSeconds: 999_999 });
    const left = await stack.deps.sql`select state from emails where kind = ${kind} order by created_at`;
    expect(left.map((r) => r.state)).toEqual(['pending', 'sent', 'failed']);
  });

  it('operations: finished ones past the retention go; recent and unfinished ones stay', async () => {
    const delegationId = await delegation('active', null);
    const operation = (state: string, finishedDaysAgo: number | null, createdDaysAgo: number) =>
      stack.deps.sql`insert into operations (id, partner_id, delegation_id, client_org_id, kind, state, requested_by,
          input, created_at, updated_at, finished_at)
        values (${`op_${tag()}`}, 'org_ret', ${delegationId}, 'org_c', 'provision_user', ${state}, 'usr_x', '{}',
          ${ago(createdDaysAgo)}, ${ago(finishedDaysAgo ?? createdDaysAgo)},
          ${finishedDaysAgo === null ? null : ago(finishedDaysAgo)})`;
    await operation('succeeded', 41, 42);
    await operation('failed', 100, 101);
    await operation('rejected', 39, 60); // asked long ago, finished within the retention
    await operation('succeeded', 1, 1);
    await operation('queued', null, 300);
    await operation('running', null, 300);
    await reconcile(stack.deps, { minAgeSeconds: 999_999 });
    const left = await stack.deps.sql`select state from operations where delegation_id = ${delegationId}
      order by created_at`;
    // (The two unfinished ones were made the same day: compared as a set.)
    expect(left.map((r) => r.state).sort()).toEqual(['queued', 'rejected', 'running', 'succeeded']);
  });

  it('delegation events: the timeline of a delegation ended longer ago than the retention goes, whole', async () => {
    const ended = await delegation('terminated', 51);
    const endedRecently = await delegation('expired', 49);
    const active = await delegation('active', null, 300);
    // `failed` may be retried by an operator, so its timeline can still grow: it stays.
    const failed = await delegation('failed', null, 300);
    for (const id of [ended, endedRecently, active, failed]) {
      for (const days of [300, 200, 60]) {
        await stack.deps.sql`insert into delegation_events (delegation_id, event, to_state, actor_type, created_at)
          values (${id}, 'send_succeeded', 'offered', 'system', ${ago(days)})`;
      }
    }
    await reconcile(stack.deps, { minAgeSeconds: 999_999 });
    const left = await stack.deps.sql`select delegation_id, count(*)::int as n from delegation_events
      where delegation_id in ${stack.deps.sql([ended, endedRecently, active, failed])} group by 1`;
    expect(Object.fromEntries(left.map((r) => [r.delegation_id, r.n]))).toEqual({
      [endedRecently]: 3,
      [active]: 3,
      [failed]: 3,
    });
    // The delegation itself stays: links, operations and the audit trail point at it.
    expect(await count(stack.deps.sql`select count(*)::int as n from delegations where id = ${ended}`)).toBe(1);
  });

  it('expiry notices: those for an end date past by more than the retention go', async () => {
    const id = `dlg_ret_${tag()}`;
    const notices: [threshold: number, endsDaysAgo: number][] = [
      [30, 21],
      [7, 21],
      [30, 19],
      [30, -10],
    ];
    for (const [days, endsDaysAgo] of notices)
      await stack.deps.sql`insert into expiry_notices (delegation_id, threshold_days, ends_at)
        values (${id}, ${days}, ${ago(endsDaysAgo)})`;
    await reconcile(stack.deps, { minAgeSeconds: 999_999 });
    expect(await count(stack.deps.sql`select count(*)::int as n from expiry_notices where delegation_id = ${id}`)).toBe(
      2,
    );
  });

  it('bounce reports: those received longer ago than the retention go', async () => {
    const id = await delegation('offered', null);
    for (const [key, days] of [
      ['old', 16],
      ['new', 14],
    ] as const)
      await stack.deps.sql`insert into delegation_bounces (delegation_id, report_key, kind, status, received_at)
        values (${id}, ${key}, 'delayed', '4.4.1', ${ago(days)})`;
    await reconcile(stack.deps, { minAgeSeconds: 999_999 });
    const left = await stack.deps.sql`select report_key from delegation_bounces where delegation_id = ${id}`;
    expect(left.map((r) => r.report_key)).toEqual(['new']);
  });

  it('sign-ups: expired or used longer ago than the retention go; one still open stays', async () => {
    const email = `signup-${tag()}@example.com`;
    const signup = (expiresDaysAgo: number, usedDaysAgo: number | null) =>
      stack.deps
        .sql`insert into signups (id, email, org_name, admin_name, password_hash, return_to, expires_at, used_at)
        values (${tag()}, ${email}, 'Org', 'Admin', 'x', '/', ${ago(expiresDaysAgo)},
          ${usedDaysAgo === null ? null : ago(usedDaysAgo)})`;
    await signup(4, null); // expired 4 days ago: goes
    await signup(2, null); // expired 2 days ago: stays
    await signup(-1, null); // still open: stays
    await signup(4, 5); // used 5 days ago: goes
    await signup(-1, 4); // used 4 days ago, its link not yet expired: goes
    await reconcile(stack.deps, { minAgeSeconds: 999_999 });
    expect(await count(stack.deps.sql`select count(*)::int as n from signups where email = ${email}`)).toBe(2);
  });

  it('development mailbox: older messages go, in batches until none is left', async () => {
    const to = `dev-${tag()}@example.com`;
    for (const days of [6, 6, 7, 8, 9, 10, 11, 4, 0])
      await stack.deps.sql`insert into dev_mail (to_address, from_address, subject, text_body, html_body, message_id,
          created_at)
        values (${to}, 'm@example.com', 's', 't', 'h', ${`<${tag()}@m>`}, ${ago(days)})`;
    const pruned = await pruneExpiredRows(stack.deps, { batch: 2 });
    expect(pruned.dev_mail).toBe(7);
    expect(await count(stack.deps.sql`select count(*)::int as n from dev_mail where to_address = ${to}`)).toBe(2);
  });
});
