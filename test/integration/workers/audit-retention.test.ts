import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../../services/maintenance/reconciler.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * Audit rows are kept AUDIT_RETENTION_DAYS (default 400) and pruned by the scheduled
 * reconciler — and by nothing else.
 */
let stack: TestStack;

beforeAll(async () => {
  stack = await createTestStack({ env: { AUDIT_RETENTION_DAYS: '30' } });
});
afterAll(() => stack.close());

async function eventAged(orgId: string, days: number) {
  await stack.deps.sql`insert into audit_events (org_id, action, target_type, target_id, outcome, created_at)
    values (${orgId}, 'organization.create', 'organization', ${orgId}, 'succeeded',
            now() - make_interval(secs => ${Math.round(days * 86400)}))`;
}

describe('audit retention', () => {
  it('prunes rows older than the retention, keeps the rest, and reads its setting', async () => {
    expect(stack.config.auditRetentionDays).toBe(30);
    const orgId = `org_retention_${Date.now()}`;
    for (const days of [400, 31, 30.05, 29.9, 1, 0]) await eventAged(orgId, days);
    await reconcile(stack.deps, { minAgeSeconds: 0 });
    const left = await stack.deps.sql`
      select extract(epoch from now() - created_at) / 86400 as days
      from audit_events where org_id = ${orgId} order by created_at`;
    expect(left.map((r) => Math.floor(Number(r.days)))).toEqual([29, 1, 0]);
  });
});
