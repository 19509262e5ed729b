import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let token: string;
let offerId: string;

beforeAll(async () => {
  stack = await createTestStack();
  ({ token } = await createTestPartner(stack));
  offerId = (await createTestOffer(stack, token, { access: 'full', durationDays: 365 })).id;
});
afterAll(() => stack.close());

interface Created {
  id: string;
  total: number;
  rejected: { row: number; email: string; reason: string }[];
}

describe('POST /v1/campaigns (JSON)', () => {
  it('records one invited delegation per valid recipient, reports the rest, and queues a token per chunk', async () => {
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token,
      json: {
        offerId,
        name: 'Spring outreach',
        recipients: [
          { email: 'alex@contoso.example', name: 'Alex', company: 'Contoso' },
          { email: 'not an address' },
          { email: 'ALEX@contoso.example' },
          { email: 'kim@fabrikam.example', name: null },
        ],
      },
    });
    expect(response.status).toBe(202);
    const created = (await response.json()) as Created;
    expect(created.total).toBe(2);
    expect(created.rejected).toEqual([
      { row: 2, email: 'not an address', reason: 'email is not a valid address' },
      { row: 3, email: 'ALEX@contoso.example', reason: 'duplicate of an earlier recipient in this campaign' },
    ]);

    const rows = await stack.deps.sql`
      select id, state, recipient_email, recipient_name, recipient_company, roles, duration_days, auto_extend
      from delegations where campaign_id = ${created.id} order by id`;
    expect(rows.map((r) => [r.recipient_email, r.recipient_name, r.recipient_company])).toEqual([
      ['alex@contoso.example', 'Alex', 'Contoso'],
      ['kim@fabrikam.example', null, null],
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({ state: 'invited', roles: ['global_admin'], duration_days: 365, auto_extend: false });
    }

    // One token per chunk of recipients (CAMPAIGN_CHUNK_SIZE, 200 by default).
    const job = await stack.deps.queues.queue('campaign-mail').getJob(`send-chunk.${created.id}.0`);
    expect(job?.data).toEqual({ campaignId: created.id, chunk: 0 });
    expect(await stack.deps.queues.queue('campaign-mail').getJob(`send-chunk.${created.id}.1`)).toBeUndefined();
  });

  it('shows progress by state and pages recipients in submission order', async () => {
    const recipients = Array.from({ length: 25 }, (_, i) => ({ email: `r${i}@x.example` }));
    const created = (await (
      await stack.request('/v1/campaigns', { method: 'POST', token, json: { offerId, recipients } })
    ).json()) as Created;
    await stack.deps
      .sql`update delegations set state = 'failed' where campaign_id = ${created.id} and recipient_email = 'r3@x.example'`;

    const progress = (await (await stack.request(`/v1/campaigns/${created.id}`, { token })).json()) as {
      total: number;
      counts: Record<string, number>;
      done: boolean;
    };
    expect(progress.total).toBe(25);
    expect(progress.counts).toEqual({
      invited: 24,
      offered: 0,
      accepting: 0,
      active: 0,
      declined: 0,
      expired: 0,
      terminated: 0,
      failed: 1,
    });
    expect(progress.done).toBe(false);

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = (await (
        await stack.request(`/v1/campaigns/${created.id}/recipients?limit=10${cursor ? `&cursor=${cursor}` : ''}`, {
          token,
        })
      ).json()) as { items: { email: string }[]; nextCursor: string | null };
      seen.push(...page.items.map((r) => r.email));
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toEqual(recipients.map((r) => r.email));

    const failed = (await (
      await stack.request(`/v1/campaigns/${created.id}/recipients?state=failed`, { token })
    ).json()) as { items: { email: string; state: string }[] };
    expect(failed.items).toEqual([expect.objectContaining({ email: 'r3@x.example', state: 'failed' })]);
  });

  it('lists campaigns newest first', async () => {
    const list = (await (await stack.request('/v1/campaigns', { token })).json()) as {
      items: { id: string; name: string }[];
    };
    expect(list.items.length).toBeGreaterThanOrEqual(2);
    expect(list.items.at(-1)?.name).toBe('Spring outreach');
  });

  it('accepts 100,000 recipients in one request', async () => {
    const recipients = Array.from({ length: 100_000 }, (_, i) => ({ email: `bulk${i}@x.example` }));
    const response = await stack.request('/v1/campaigns', { method: 'POST', token, json: { offerId, recipients } });
    expect(response.status).toBe(202);
    const created = (await response.json()) as Created;
    expect(created.total).toBe(100_000);
    const [row] = await stack.deps.sql`select count(*)::int as n from delegations where campaign_id = ${created.id}`;
    expect(row?.n).toBe(100_000);
  });
});

describe('POST /v1/campaigns (CSV)', () => {
  it('reads recipients from a CSV upload with ?offerId=', async () => {
    const csv = 'email,name,company\r\nfirst@x.example,"Doe, Jane",Contoso\r\nbroken\r\nsecond@x.example,,\r\n';
    const response = await stack.request(`/v1/campaigns?offerId=${offerId}&name=From%20CSV`, {
      method: 'POST',
      token,
      body: csv,
      headers: { 'content-type': 'text/csv; charset=utf-8' },
    });
    expect(response.status).toBe(202);
    const created = (await response.json()) as Created;
    expect(created.total).toBe(2);
    expect(created.rejected).toEqual([{ row: 2, email: 'broken', reason: 'email is not a valid address' }]);
    const [campaign] = await stack.deps.sql`select name from campaigns where id = ${created.id}`;
    expect(campaign?.name).toBe('From CSV');
    const names = await stack.deps
      .sql`select recipient_name from delegations where campaign_id = ${created.id} order by id`;
    expect(names.map((r) => r.recipient_name)).toEqual(['Doe, Jane', null]);
  });
});
