import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { auditActionLabels, auditActions, auditOutcomeLabels, auditOutcomes } from '../../core/audit-actions.ts';
import { launchBrowser, screenshotDir } from '../helpers/browser.ts';
import { createTestPartner } from '../helpers/factories.ts';
import { createClientAdmin } from '../helpers/offer-fixtures.ts';
import { freePort } from '../helpers/processes.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * A client's global admin reads 1,000 events of their organization's trail in a real
 * browser, a page at a time, then downloads it: the file holds every row the pages
 * showed, in the same order and the same words.
 */
const TOTAL = 1000;

let stack: TestStack;
let server: RunningServer;
let browser: Browser;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await createTestStack({ env: { PORT: String(port), PUBLIC_URL: base, HOST: '127.0.0.1' } });
  server = await startServer(stack.app, stack.config);
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await stack?.close();
});

describe('the client’s audit trail in a browser', () => {
  it('pages through 1,000 events and downloads the same 1,000 as CSV', async () => {
    const partner = await createTestPartner(stack, 'Tailspin IT');
    const admin = await createClientAdmin(stack, 'Litware');
    // 1,000 events over the last days: every action of the catalogue, every outcome, by the
    // partner's owner or by Mandate, each about a user of its own.
    await stack.deps.sql`
      insert into audit_events (actor_user_id, partner_id, org_id, action, target_type, target_id, outcome, detail, created_at)
      select case when i % 3 = 0 then null else ${partner.userId} end, ${partner.partnerId}, ${admin.orgId},
             (${auditActions}::text[])[1 + i % ${auditActions.length}], 'operation', 'op_' || i,
             (${auditOutcomes}::text[])[1 + i % ${auditOutcomes.length}],
             jsonb_build_object('email', 'user-' || i || '@litware.example'),
             now() - make_interval(mins => ${TOTAL} - i)
      from generate_series(1, ${TOTAL}) as i`;

    const context = await browser.newContext({ acceptDownloads: true });
    const page = await context.newPage();
    await page.goto(`${base}/sign-in?next=/org/audit`);
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'What happened in Litware' }).waitFor();
    await page.screenshot({ path: join(screenshotDir, 'audit-trail.png'), fullPage: true });

    const shown: string[][] = [];
    let pages = 0;
    for (;;) {
      pages += 1;
      // The cells as read, and the outcome's words alone (a reason may follow them in the cell).
      const rows = await page
        .locator('table[data-audit] tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => [
            ...[...tr.querySelectorAll('td')]
              .slice(0, 5)
              .map((td) => (td.textContent ?? '').replace(/\s+/g, ' ').trim()),
            (tr.querySelector('.state')?.textContent ?? '').trim(),
          ]),
        );
      shown.push(...rows);
      const older = page.getByRole('link', { name: 'Older', exact: true });
      if ((await older.count()) === 0) break;
      await older.click();
      await page.waitForLoadState('domcontentloaded');
    }
    const seeded = shown.filter((cells) => /^user-\d+@litware\.example$/.test(cells[4] ?? ''));
    expect(seeded).toHaveLength(TOTAL);
    expect(new Set(seeded.map((cells) => cells[4])).size).toBe(TOTAL);
    expect(pages).toBeGreaterThanOrEqual(TOTAL / 50);
    // Every label is a label of the catalogue, in words: no codes on the page.
    const words = new Set<string>(Object.values(auditActionLabels));
    expect(seeded.every((cells) => words.has(cells[3] ?? ''))).toBe(true);
    expect(seeded.every((cells) => (Object.values(auditOutcomeLabels) as string[]).includes(cells[5] ?? ''))).toBe(
      true,
    );

    await page.goto(`${base}/org/audit`);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download all of it as CSV' }).click(),
    ]);
    const csv = await readFile((await download.path()) as string, 'utf8');
    const records = parse(csv, { columns: true }) as Record<string, string>[];
    expect(records).toHaveLength(shown.length);
    // The same rows, in the same order, in the same words as the pages.
    expect(records.map((r) => [r.who, r.partner, r.what, r.about, r.outcome])).toEqual(
      // (A partner the page shows as a dash is an empty cell in the file.)
      shown.map((cells) => [cells[1], cells[2] === '—' ? '' : cells[2], cells[3], cells[4], cells[5]]),
    );
    expect(records.filter((r) => /^user-\d+@litware\.example$/.test(r.about ?? ''))).toHaveLength(TOTAL);
    await context.close();
  }, 120_000);
});
