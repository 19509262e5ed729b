import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../../api/server.ts';
import { devMail } from '../../db/schema/dev-mail.ts';
import { launchBrowser, screenshotDir } from '../helpers/browser.ts';
import { freePort } from '../helpers/processes.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * A message of the development mailbox in a real browser: its HTML part is rendered, but
 * nothing in it runs, nothing it names elsewhere is fetched, and its source is one click
 * away.
 */
let stack: TestStack;
let server: RunningServer;
let browser: Browser;
let base: string;
/** Another site: counts what the message makes the browser ask it for. */
let elsewhere: Server;
let elsewhereUrl: string;
const fetchedElsewhere: string[] = [];

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  stack = await createTestStack({ env: { SMTP_URL: '', PORT: String(port), PUBLIC_URL: base, HOST: '127.0.0.1' } });
  server = await startServer(stack.app, stack.config);
  elsewhere = createServer((req, res) => {
    fetchedElsewhere.push(req.url ?? '');
    res.end('');
  });
  const elsewherePort = await freePort();
  await new Promise<void>((resolve) => elsewhere.listen(elsewherePort, '127.0.0.1', resolve));
  elsewhereUrl = `http://127.0.0.1:${elsewherePort}`;
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => elsewhere?.close(resolve));
  await server?.close();
  await stack?.close();
});

describe('a message of the development mailbox in a browser', () => {
  it('shows its HTML part rendered, running nothing and loading nothing from elsewhere; the source on request', async () => {
    const htmlBody = `<!doctype html>
<html><head><style>
@import url("${elsewhereUrl}/style.css");
@font-face { font-family: Remote; src: url("${elsewhereUrl}/font.woff2"); }
h1 { font-family: Remote, sans-serif; }
</style></head>
<body>
<h1 id="greeting">Hello from the HTML part</h1>
<script>document.getElementById('greeting').textContent = 'a script ran'; parent.document.title = 'framed';</script>
<img src="${elsewhereUrl}/pixel.png" onerror="document.body.dataset.handler = 'ran'">
<p><a id="link" href="${base}/dev/mail">Open the mailbox</a></p>
</body></html>`;
    const [row] = await stack.deps.db
      .insert(devMail)
      .values({
        toAddress: 'admin@contoso.example',
        fromAddress: 'Mandate <no-reply@localhost>',
        subject: 'An HTML message',
        textBody: 'Hello from the text part',
        htmlBody,
        messageId: '<dev-mail-browser@localhost>',
      })
      .returning({ id: devMail.id });

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/dev/mail/${row?.id}`);
    await page.locator('iframe').waitFor({ timeout: 5000 });
    const frame = page.frameLocator('iframe');
    await expect.poll(() => frame.locator('#greeting').textContent()).toBe('Hello from the HTML part');
    await page.screenshot({ path: join(screenshotDir, 'dev-mail-html.png'), fullPage: true });
    // No script ran: not in the frame, not in the page, not as an attribute handler.
    expect(await page.title()).toBe('An HTML message · Mandate');
    expect(await frame.locator('body').getAttribute('data-handler')).toBeNull();
    // Nothing was fetched from the other site: no stylesheet, font or image.
    await new Promise((r) => setTimeout(r, 300));
    expect(fetchedElsewhere).toEqual([]);

    // A link in it opens in a tab of its own, outside the sandbox.
    const [opened] = await Promise.all([context.waitForEvent('page'), frame.locator('#link').click()]);
    await opened.waitForLoadState();
    expect(opened.url()).toBe(`${base}/dev/mail`);
    expect(await opened.getByRole('heading', { name: 'Development mailbox' }).count()).toBe(1);
    expect(page.url()).toBe(`${base}/dev/mail/${row?.id}`);

    // The source, as text.
    await page.getByText('HTML part (source)').click();
    expect(await page.locator('details pre').textContent()).toContain(
      '<h1 id="greeting">Hello from the HTML part</h1>',
    );
    await context.close();
  }, 60_000);
});
