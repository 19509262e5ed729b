import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { purgeCampaignUploads } from '../../../services/campaigns/uploads.ts';
import { type PageClient, postFiles } from '../../helpers/browser-client.ts';
import { createStaffMember, signedInClient } from '../../helpers/dashboard.ts';
import { createTestOffer, createTestPartner } from '../../helpers/factories.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

let stack: TestStack;
let owner: Awaited<ReturnType<typeof createTestPartner>>;
let offerId: string;
let browser: PageClient;

beforeAll(async () => {
  stack = await createTestStack({ env: { MAX_UPLOAD_BYTES: '200000' } });
  owner = await createTestPartner(stack, 'Northwind');
  offerId = (await createTestOffer(stack, owner.token, { name: 'Managed IT' })).id;
  browser = await signedInClient(stack, owner.userId);
});
afterAll(() => stack.close());

/** Two good rows, then a bad address, a repeat of the first (other case), a row without address, and a good one. */
const csv = [
  'email,name,company',
  'alex@contoso.example,Alex,Contoso',
  'sam@fabrikam.example,Sam,Fabrikam',
  'not-an-address,Bad,Bad Co',
  'ALEX@contoso.example,Alex again,Contoso',
  ',Nobody,Nowhere',
  'kim@tailspin.example,Kim,',
].join('\n');

const upload = (fields: Record<string, string>, content: string | Uint8Array = csv, as: PageClient = browser) =>
  postFiles(as, '/dashboard/campaigns/new', fields, { file: { name: 'clients.csv', content } });

const count = async (table: 'campaigns' | 'campaign_uploads' | 'delegations') =>
  (await stack.deps.sql`select count(*)::int as n from ${stack.deps.sql(table)}`)[0]?.n as number;

/** The form key of the page's send form. */
const sendKeyOf = (html: string) => /name="submission" value="([^"]+)"/.exec(html)?.[1] as string;

describe('a campaign from a CSV file, checked before it is sent', () => {
  let previewPath: string;

  it('shows the upload form with the open offers, linked from the campaigns page', async () => {
    const revoked = await createTestOffer(stack, owner.token, { name: 'Withdrawn one' });
    await stack.request(`/v1/offers/${revoked.id}`, { method: 'DELETE', token: owner.token });
    expect((await browser.get('/dashboard/campaigns')).html).toContain('href="/dashboard/campaigns/new"');
    const form = await browser.get(`/dashboard/campaigns/new?offerId=${offerId}`);
    expect(form.status).toBe(200);
    expect(form.html).toContain('enctype="multipart/form-data"');
    expect(form.html).toMatch(new RegExp(`<option value="${offerId}" selected="">Managed IT</option>`));
    expect(form.html).not.toContain('Withdrawn one');
  });

  it('lists what would be sent and every row refused, with its number and why, and sends nothing yet', async () => {
    const before = { campaigns: await count('campaigns'), delegations: await count('delegations') };
    const uploaded = await upload({ offerId, name: 'Spring rollout' });
    expect(uploaded.status).toBe(303);
    previewPath = uploaded.location as string;
    expect(previewPath).toMatch(/^\/dashboard\/campaigns\/uploads\/upl_[0-9a-f]{32}$/);
    expect(await count('campaigns')).toBe(before.campaigns);
    expect(await count('delegations')).toBe(before.delegations);

    const preview = await browser.get(previewPath);
    expect(preview.status).toBe(200);
    expect(preview.html).toMatch(/data-testid="upload-valid">3</);
    expect(preview.html).toMatch(/data-testid="upload-rejected">3</);
    const rows = [...preview.html.matchAll(/<tr><td class="num">(\d+)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td><\/tr>/g)];
    expect(rows.map(([, row, email, reason]) => [Number(row), email, reason])).toEqual([
      [3, 'not-an-address', 'email is not a valid address'],
      [4, 'ALEX@contoso.example', 'duplicate of an earlier recipient in this campaign'],
      [5, '', 'email is missing'],
    ]);
    expect(preview.html).toContain('Send to 3 recipients');

    // The API, sent the same file, refuses the same rows.
    const api = await stack.request(`/v1/campaigns?offerId=${offerId}`, {
      method: 'POST',
      token: owner.token,
      body: csv,
      headers: { 'content-type': 'text/csv' },
    });
    const created = (await api.json()) as { rejected: { row: number; reason: string }[] };
    expect(created.rejected.map((r) => [r.row, r.reason])).toEqual(
      rows.map(([, row, , reason]) => [Number(row), reason]),
    );
  });

  it('sends to the valid rows once, from the rows shown, and the campaign page lists the refused ones', async () => {
    const preview = await browser.get(previewPath);
    const fields = { submission: sendKeyOf(preview.html) };
    const sendPath = `${previewPath}/send`;
    const [first, second] = await Promise.all([browser.post(sendPath, fields), browser.post(sendPath, fields)]);
    expect(first.status).toBe(303);
    const campaignId = /^\/dashboard\/campaigns\/(cmp_[0-9a-f]{32})\?notice=campaign-sent&n=3$/.exec(
      first.location ?? '',
    )?.[1] as string;
    expect(campaignId).toBeDefined();
    expect(second.location).toBe(first.location);

    const [campaign] = await stack.deps
      .sql`select name, total, rejected_count, created_by from campaigns where id = ${campaignId}`;
    expect(campaign).toEqual({ name: 'Spring rollout', total: 3, rejected_count: 3, created_by: owner.userId });
    const recipients = await stack.deps.sql`
      select recipient_email, recipient_name, recipient_company from delegations where campaign_id = ${campaignId} order by id`;
    expect(recipients.map((r) => r.recipient_email)).toEqual([
      'alex@contoso.example',
      'sam@fabrikam.example',
      'kim@tailspin.example',
    ]);
    expect(await stack.deps.queues.queue('campaign-mail').getJob(`send-chunk.${campaignId}.0`)).toBeTruthy();
    const [kept] = await stack.deps.sql`select campaign_id, jsonb_array_length(recipients) as rows from campaign_uploads
      where id = ${previewPath.split('/').at(-1) as string}`;
    expect(kept).toEqual({ campaign_id: campaignId, rows: 0 });

    const page = await browser.get(first.location as string);
    expect(page.html).toContain('Campaign started: 3 recipients will be sent the offer.');
    expect(page.html).toContain('data-live="progress"');
    expect(page.html).toContain('Rows refused when the campaign was created (3)');
    expect(page.html).toContain('<td class="num">4</td><td>ALEX@contoso.example</td>');

    // The same list sent again from a fresh page (another tab): its campaign, not a second one.
    const again = await browser.post(sendPath, {
      submission: sendKeyOf((await browser.get(previewPath)).html) ?? 'k'.repeat(22),
    });
    expect(again.location).toBe(`/dashboard/campaigns/${campaignId}?notice=campaign-already-sent&n=3`);
    const [n] = await stack.deps.sql`select count(*)::int as n from campaigns where name = 'Spring rollout'`;
    expect(n?.n).toBe(1);
    expect((await browser.get(previewPath)).html).toContain(`href="/dashboard/campaigns/${campaignId}"`);
  });

  it.each([
    ['a header without an email column', 'name,company\nAlex,Contoso', 422, 'the header must have an email column'],
    ['a file separated by semicolons', 'email;name\na@x.example;A', 422, 'separated by semicolons'],
    [
      'a file that is not UTF-8',
      new Uint8Array([0x65, 0x6d, 0x61, 0x69, 0x6c, 0x0a, 0xe9, 0x40, 0x78]),
      400,
      'not UTF-8',
    ],
    ['a header and no rows', 'email,name\n', 422, 'at least one recipient'],
  ])('refuses %s beside the form, and keeps nothing', async (_label, content, status, message) => {
    const before = await count('campaign_uploads');
    const answer = await upload({ offerId, name: 'Broken' }, content);
    expect(answer.status).toBe(status);
    expect(answer.html).toContain(message);
    expect(answer.html).toContain('enctype="multipart/form-data"');
    expect(answer.html).toContain('value="Broken"');
    expect(await count('campaign_uploads')).toBe(before);
  });

  it('refuses a withdrawn offer, a missing file, a file past the upload limit, and a form without its CSRF token', async () => {
    const before = await count('campaign_uploads');
    const withdrawn = await createTestOffer(stack, owner.token);
    await stack.request(`/v1/offers/${withdrawn.id}`, { method: 'DELETE', token: owner.token });
    const refused = await upload({ offerId: withdrawn.id });
    expect(refused.status).toBe(409);
    expect(refused.html).toContain('revoked');
    const noFile = await postFiles(browser, '/dashboard/campaigns/new', { offerId }, {});
    expect(noFile.status).toBe(422);
    expect(noFile.html).toContain('Choose a CSV file');
    const large = `email\n${'x'.repeat(60)}@big.example\n`.repeat(4000);
    expect((await upload({ offerId }, large)).status).toBe(413);
    expect(
      (
        await postFiles(
          browser,
          '/dashboard/campaigns/new',
          { offerId },
          { file: { name: 'a.csv', content: csv } },
          'x'.repeat(43),
        )
      ).status,
    ).toBe(403);
    expect(await count('campaign_uploads')).toBe(before);
  });

  it('keeps an upload for its uploader only, and not past its hour', async () => {
    const uploaded = await upload({ offerId });
    const path = uploaded.location as string;
    const colleague = await createStaffMember(stack, owner.token, 'full');
    const other = await signedInClient(stack, colleague.userId);
    expect((await other.get(path)).status).toBe(404);
    expect((await other.post(`${path}/send`, { submission: 'k'.repeat(22) })).status).toBe(404);
    const outsider = await signedInClient(stack, (await createTestPartner(stack)).userId);
    expect((await outsider.get(path)).status).toBe(404);
    const none = await signedInClient(stack, (await createStaffMember(stack, owner.token, 'none')).userId);
    expect((await none.get('/dashboard/campaigns/new')).status).toBe(403);
    expect((await upload({ offerId }, csv, none)).status).toBe(403);
    expect((await none.get('/dashboard/campaigns')).status).toBe(403);

    const id = path.split('/').at(-1) as string;
    await stack.deps.sql`update campaign_uploads set expires_at = now() - interval '1 second' where id = ${id}`;
    const late = await browser.post(`${path}/send`, {
      submission: sendKeyOf((await browser.get(path)).html) ?? 'l'.repeat(22),
    });
    expect(late.status).toBe(404);
    expect(late.html).toContain('upload it again');
    expect(await purgeCampaignUploads(stack.deps.db)).toBeGreaterThanOrEqual(1);
    expect(await stack.deps.sql`select 1 from campaign_uploads where id = ${id}`).toHaveLength(0);
  });
});

describe('default campaign names', () => {
  it('gives campaigns sent without a name, on the same day and at once, names of their own', async () => {
    const send = () =>
      stack.request('/v1/campaigns', {
        method: 'POST',
        token: owner.token,
        json: { offerId, recipients: [{ email: 'a@names.example' }] },
      });
    const answers = await Promise.all([send(), send(), send()]);
    const ids = await Promise.all(answers.map(async (r) => ((await r.json()) as { id: string }).id));
    const rows = await stack.deps.sql`select name from campaigns where id in ${stack.deps.sql(ids)} order by name`;
    const names = rows.map((r) => r.name as string);
    expect(new Set(names).size).toBe(3);
    for (const name of names) expect(name).toMatch(/^Managed IT – \d{4}-\d{2}-\d{2}( \(\d+\))?$/);
    // Within one day (another campaign of this file may have taken the plain name already): numbered.
    const bases = new Set(names.map((n) => n.replace(/ \(\d+\)$/, '')));
    if (bases.size === 1) expect(names.filter((n) => / \(\d+\)$/.test(n)).length).toBeGreaterThanOrEqual(2);
  });
});
