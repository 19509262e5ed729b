import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PageClient } from '../../helpers/browser-client.ts';
import { signedInClient, stepUp } from '../../helpers/dashboard.ts';
import { createTestPartner, createTestStaff } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The dashboard's webhook pages: owners add an endpoint and see its secret once, change it,
 * send a test event, read its deliveries and send one again. Staff who are not owners are
 * refused; another partner's endpoint is not found. Without workers, nothing is sent: the
 * deliveries stay as the pages made them.
 */
let stack: TestStack;
let owner: PageClient;
let staff: PageClient;
let otherOwner: PageClient;
let partnerId: string;

const submission = () => `s${Math.random().toString(36).slice(2)}${'x'.repeat(16)}`.slice(0, 24);

async function endpointCount(): Promise<number> {
  const [row] = await stack.deps.sql`select count(*)::int as n from webhook_endpoints where partner_id = ${partnerId}`;
  return Number(row?.n);
}

/** Adds an endpoint through the form; returns its id and the page that answered. */
async function addEndpoint(browser: PageClient, url: string, events: string[], description = '') {
  const fields: Record<string, string> = { url, description };
  for (const e of events) fields[`event:${e}`] = 'on';
  const page = await browser.post('/dashboard/webhooks', fields);
  const id = /\/dashboard\/webhooks\/(whe_[0-9a-f]+)/.exec(page.html)?.[1];
  return { page, id };
}

beforeAll(async () => {
  stack = await createTestStack({ env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  const partner = await createTestPartner(stack);
  partnerId = partner.partnerId;
  owner = await signedInClient(stack, partner.userId);
  const staffToken = await createTestStaff(stack, partner.partnerId, ['password_admin']);
  const [member] = await stack.deps.sql`select user_id from api_tokens
    where token_hash = encode(sha256(${staffToken}::bytea), 'hex')`;
  staff = await signedInClient(stack, String(member?.user_id));
  const other = await createTestPartner(stack);
  otherOwner = await signedInClient(stack, other.userId);
}, 60_000);
afterAll(() => stack.close());

describe('the webhook pages', () => {
  let id: string;

  it('asks for a second factor before adding a webhook, and adds nothing meanwhile', async () => {
    const { page } = await addEndpoint(owner, 'http://127.0.0.1:9/x', ['delegation.accepted']);
    expect(page.status).toBe(303);
    expect(page.location).toContain('/account/confirm');
    expect(await endpointCount()).toBe(0);
    await stepUp(owner);
    await stepUp(otherOwner);
  });

  it('lists no webhook at first, with the form and every subscribable event type in words', async () => {
    const page = await owner.get('/dashboard/webhooks');
    expect(page.status).toBe(200);
    expect(page.html).toContain('You have no webhook.');
    expect(page.html).toContain('name="event:delegation.activated"');
    expect(page.html).toContain('The delegated access was granted');
    expect(page.html).not.toContain('name="event:webhook.test"');
    expect(page.html).not.toMatch(/name="event:[^"]+" value="on" checked/);
    expect(page.html).toContain('href="/dashboard/webhooks"');
  });

  it('refuses a URL it will not send to, or no events, showing the form again; nothing is created', async () => {
    const refused = await addEndpoint(owner, 'ftp://127.0.0.1/x', ['delegation.activated']);
    expect(refused.page.status).toBe(422);
    expect(refused.page.html).toContain('Only http and https URLs are accepted');
    expect(refused.page.html).toContain('value="ftp://127.0.0.1/x"');
    expect(refused.page.html).toMatch(/name="event:delegation.activated" value="on" checked/);
    expect(refused.page.html).not.toMatch(/name="event:operation.failed" value="on" checked/);
    const none = await addEndpoint(owner, 'http://127.0.0.1:9/x', []);
    expect(none.page.status).toBe(422);
    expect(none.page.html).toContain('Choose at least one event type');
    expect(await endpointCount()).toBe(0);
  });

  it('adds one and shows its signing secret once', async () => {
    const added = await addEndpoint(
      owner,
      'http://127.0.0.1:9/x',
      ['delegation.activated', 'operation.failed'],
      'Our <b>receiver</b>',
    );
    expect(added.page.status).toBe(201);
    const secret = /whsec_[A-Za-z0-9+/=]{40,}/.exec(added.page.html)?.[0];
    expect(secret).toBeDefined();
    expect(added.page.html).toContain('it is not shown again');
    id = added.id as string;
    expect(id).toBeDefined();
    expect(await endpointCount()).toBe(1);
    const list = await owner.get('/dashboard/webhooks');
    expect(list.html).toContain('http://127.0.0.1:9/x');
    expect(list.html).toContain('Our &lt;b&gt;receiver&lt;/b&gt;');
    expect(list.html).not.toContain(secret);
    expect(list.html).not.toContain('whsec_');
    const details = await owner.get(`/dashboard/webhooks/${id}`);
    expect(details.status).toBe(200);
    expect(details.html).not.toContain('whsec_');
  });

  it('refuses staff who are not owners, and hides the nav link from them', async () => {
    for (const path of ['/dashboard/webhooks', `/dashboard/webhooks/${id}`, `/dashboard/webhooks/${id}/delete`]) {
      expect((await staff.get(path)).status, path).toBe(403);
    }
    const posted = await staff.post('/dashboard/webhooks', {
      url: 'http://127.0.0.1:9/y',
      'event:operation.failed': 'on',
    });
    expect(posted.status).toBe(403);
    expect((await staff.post(`/dashboard/webhooks/${id}/delete`)).status).toBe(403);
    expect(await endpointCount()).toBe(1);
    expect((await staff.get('/dashboard/tokens')).html).not.toContain('href="/dashboard/webhooks"');
  });

  it("does not find another partner's endpoint", async () => {
    expect((await otherOwner.get(`/dashboard/webhooks/${id}`)).status).toBe(404);
    expect((await otherOwner.get(`/dashboard/webhooks/${id}/rotate`)).status).toBe(404);
    expect((await otherOwner.post(`/dashboard/webhooks/${id}/delete`)).status).toBe(404);
    expect((await otherOwner.post(`/dashboard/webhooks/${id}/test`, { submission: submission() })).status).toBe(404);
    expect(await endpointCount()).toBe(1);
  });

  it('refuses forms without the CSRF token', async () => {
    const before = await endpointCount();
    const add = await owner.post(
      '/dashboard/webhooks',
      { url: 'http://127.0.0.1:9/z', 'event:operation.failed': 'on' },
      null,
    );
    expect(add.status).toBe(403);
    expect((await owner.post(`/dashboard/webhooks/${id}/delete`, {}, null)).status).toBe(403);
    expect((await owner.post(`/dashboard/webhooks/${id}/test`, { submission: submission() }, null)).status).toBe(403);
    expect(await endpointCount()).toBe(before);
    const [row] = await stack.deps.sql`select count(*)::int as n from webhook_deliveries where endpoint_id = ${id}`;
    expect(row?.n).toBe(0);
  });

  it('changes its events, and turns it off and on', async () => {
    const saved = await owner.post(`/dashboard/webhooks/${id}/settings`, {
      url: 'http://127.0.0.1:9/x',
      description: 'Receiver',
      'event:campaign.completed': 'on',
    });
    expect(saved.status).toBe(303);
    const [row] = await stack.deps.sql`select events, description from webhook_endpoints where id = ${id}`;
    expect(row?.events).toEqual(['campaign.completed']);
    expect((await owner.get(`/dashboard/webhooks/${id}`)).html).toMatch(
      /name="event:campaign.completed" value="on" checked/,
    );
    expect((await owner.get('/dashboard/webhooks/whe_nothing')).status).toBe(404);
    const none = await owner.post(`/dashboard/webhooks/${id}/settings`, { url: 'http://127.0.0.1:9/x' });
    expect(none.status).toBe(422);
    expect(none.html).toContain('Choose at least one event type');
    const off = await owner.post(`/dashboard/webhooks/${id}/enabled`, { enabled: 'off' });
    expect(off.status).toBe(303);
    const page = await owner.get(`/dashboard/webhooks/${id}`);
    expect(page.html).toContain('Turn on');
    expect(page.html).toContain('Turned off by');
    expect((await owner.post(`/dashboard/webhooks/${id}/enabled`, { enabled: 'on' })).status).toBe(303);
    expect((await owner.get(`/dashboard/webhooks/${id}`)).html).toContain('Turn off');
  });

  it('sends a test event: a pending webhook.test delivery, once per submission', async () => {
    const key = submission();
    const sent = await owner.post(`/dashboard/webhooks/${id}/test`, { submission: key });
    expect(sent.status).toBe(303);
    expect((await owner.post(`/dashboard/webhooks/${id}/test`, { submission: key })).status).toBe(303);
    const rows = await stack.deps.sql`select event_type, state from webhook_deliveries where endpoint_id = ${id}`;
    expect(rows.map((r) => [r.event_type, r.state])).toEqual([['webhook.test', 'pending']]);
    const page = await owner.get(`/dashboard/webhooks/${id}`);
    expect(page.html).toContain('webhook.test');
    expect(page.html).toContain('pending');
  });

  it('shows a failed delivery with its answer escaped, filters failures, and sends it again', async () => {
    const [delivery] = await stack.deps.sql`select id, event_id from webhook_deliveries where endpoint_id = ${id}`;
    const deliveryId = String(delivery?.id);
    await stack.deps.sql`update webhook_deliveries set state = 'failed', attempts = 12, last_status = 500,
      last_error = 'HTTP 500 <img src=x onerror=alert(2)>', response_excerpt = '<script>alert(1)</script>'
      where id = ${deliveryId}`;
    const failures = await owner.get(`/dashboard/webhooks/${id}?state=failed`);
    expect(failures.status).toBe(200);
    expect(failures.html).toContain(deliveryId);
    expect((await owner.get(`/dashboard/webhooks/${id}?state=delivered`)).html).not.toContain(deliveryId);
    const detail = await owner.get(`/dashboard/webhooks/${id}/deliveries/${deliveryId}`);
    expect(detail.status).toBe(200);
    expect(detail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(detail.html).not.toContain('<script>alert(1)');
    expect(detail.html).not.toContain('<img src=x');
    expect(detail.html).toContain('Send again');
    expect((await otherOwner.get(`/dashboard/webhooks/${id}/deliveries/${deliveryId}`)).status).toBe(404);

    const again = await owner.post(`/dashboard/webhooks/${id}/deliveries/${deliveryId}/redeliver`, {
      submission: submission(),
    });
    expect(again.status).toBe(303);
    const rows = await stack.deps.sql`select id, event_id, state, redelivery_of from webhook_deliveries
      where endpoint_id = ${id} order by created_at`;
    expect(rows).toHaveLength(2);
    expect(rows[1]?.event_id).toBe(delivery?.event_id);
    expect(rows[1]?.redelivery_of).toBe(deliveryId);
    expect(rows[1]?.state).toBe('pending');
  });

  it('rotates the secret after asking, showing the new one once and the 24 h overlap', async () => {
    const confirm = await owner.get(`/dashboard/webhooks/${id}/rotate`);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain('24 hours');
    const rotated = await owner.post(`/dashboard/webhooks/${id}/rotate`);
    expect(rotated.status).toBe(200);
    expect(rotated.html).toMatch(/whsec_[A-Za-z0-9+/=]{40,}/);
    expect(rotated.html).toContain('The old secret still signs beside the new one until');
    expect((await owner.get(`/dashboard/webhooks/${id}`)).html).not.toContain('whsec_');
  });

  it('deletes it after asking', async () => {
    const confirm = await owner.get(`/dashboard/webhooks/${id}/delete`);
    expect(confirm.status).toBe(200);
    expect(confirm.html).toContain('cannot be undone');
    const deleted = await owner.post(`/dashboard/webhooks/${id}/delete`);
    expect(deleted.status).toBe(303);
    expect(await endpointCount()).toBe(0);
    expect((await owner.get(`/dashboard/webhooks/${id}`)).status).toBe(404);
  });
});
