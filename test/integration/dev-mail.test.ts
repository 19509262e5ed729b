import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { delegationLinkToken } from '../../lib/secrets.ts';
import { createTestOffer, createTestPartner, waitFor } from '../helpers/factories.ts';
import { createTestStack, type TestStack } from '../helpers/stack.ts';

/**
 * Without SMTP_URL, mail goes to the development mailbox (`dev_mail`) through the real
 * worker and mailer, and /dev/mail shows it; with SMTP_URL set, /dev/mail does not exist.
 */
let stack: TestStack;
let withSmtp: TestStack;
let behindProxy: TestStack;

beforeAll(async () => {
  // An empty value counts as unset: the stack's default SMTP_URL is dropped.
  stack = await createTestStack({ env: { SMTP_URL: '' }, workers: true });
  withSmtp = await createTestStack({ database: stack.database });
  behindProxy = await createTestStack({ database: stack.database, env: { SMTP_URL: '', TRUST_PROXY: 'true' } });
});
afterAll(async () => {
  await behindProxy?.close();
  await withSmtp?.close();
  await stack?.close();
});

const delegation = async (id: string) =>
  (await stack.deps.sql`select state from delegations where id = ${id}`)[0] as Record<string, unknown>;

describe('the development mailbox', () => {
  let delegationId: string;
  let mailId: number;

  beforeAll(async () => {
    const partner = await createTestPartner(stack, 'Acme <IT> & Co');
    const offer = await createTestOffer(stack, partner.token);
    const response = await stack.request('/v1/campaigns', {
      method: 'POST',
      token: partner.token,
      json: { offerId: offer.id, recipients: [{ email: 'admin@contoso.example', name: 'Alex' }] },
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const [row] = await stack.deps.sql`select id from delegations where campaign_id = ${id}`;
    delegationId = row?.id as string;
  });

  it("keeps a campaign's email in dev_mail, and the send counts as delivered", async () => {
    await waitFor(async () => (await delegation(delegationId)).state === 'offered');
    const rows = await stack.deps.sql`select * from dev_mail`;
    expect(rows).toHaveLength(1);
    const mail = rows[0] as Record<string, unknown>;
    mailId = Number(mail.id);
    expect(mail).toMatchObject({
      to_address: 'admin@contoso.example',
      from_address: '"Mandate" <no-reply@localhost>',
      subject: 'Acme <IT> & Co offers to administer your organization',
      message_id: `<${delegationId}.offer@localhost>`,
    });
    const link = `http://mandate.test/offers/${delegationLinkToken(stack.config.linkSecret, delegationId)}`;
    expect(mail.text_body).toContain(link);
    expect(mail.html_body).toContain(link);
    expect(Date.now() - Date.parse(String(mail.created_at))).toBeLessThan(60_000);
    // Recorded as any delivery is, with the mailbox's reply in place of a server's.
    const [event] = await stack.deps.sql`
      select event, to_state, detail from delegation_events where delegation_id = ${delegationId}`;
    expect(event).toMatchObject({ event: 'send_succeeded', to_state: 'offered' });
    expect((event?.detail as { reply?: string } | undefined)?.reply).toMatch(/^250 .*development mailbox/);
  });

  it('lists it at /dev/mail, escaped, under the development-only banner, without sign-in', async () => {
    const response = await stack.request('/dev/mail');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    const html = await response.text();
    expect(html).toContain('Development only: these emails were not sent.');
    expect(html).toContain('admin@contoso.example');
    expect(html).toContain(`<a href="/dev/mail/${mailId}">Acme &lt;IT&gt; &amp; Co offers to administer`);
    expect(html).not.toContain('<IT>');
  });

  it('shows one message: the offer link clickable, the HTML part rendered in a sandbox, and its source', async () => {
    const response = await stack.request(`/dev/mail/${mailId}`);
    expect(response.status).toBe(200);
    const html = await response.text();
    const link = `http://mandate.test/offers/${delegationLinkToken(stack.config.linkSecret, delegationId)}`;
    expect(html).toContain(`<a href="${link}">${link}</a>`);
    expect(html).toContain('Development only: these emails were not sent.');
    expect(html).toContain('Acme &lt;IT&gt; &amp; Co offers to act as delegated administrator.');
    expect(html).not.toContain('<IT>');
    // Rendered: one frame whose document is the HTML part, escaped into its srcdoc attribute.
    // Its sandbox runs no script and gives it no origin (no allow-scripts, no
    // allow-same-origin); a link clicked in it opens outside, in a tab of its own.
    const frames = [...html.matchAll(/<iframe\b[^>]*>/gi)].map((m) => m[0]);
    expect(frames).toHaveLength(1);
    const frame = frames[0] as string;
    expect(frame).toMatch(/\ssandbox="allow-popups allow-popups-to-escape-sandbox"/);
    expect(frame).not.toMatch(/allow-scripts|allow-same-origin|allow-top-navigation|allow-forms/);
    expect(frame).toMatch(/\ssrcdoc="[^"]*&lt;a href=(&quot;|&#39;)http:\/\/mandate\.test\/offers\//);
    expect(frame).toContain('&lt;base target=');
    // And as source, escaped: none of its tags arrives as markup.
    expect(html).toMatch(/<summary>[^<]*source[^<]*<\/summary>\s*<pre[^>]*>&lt;!doctype html&gt;/i);
    expect(html).not.toMatch(/<(script|img|table|base)\b/i);
    // The page's own policy, which the frame's document inherits: nothing loaded from elsewhere.
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toMatch(/frame-src|child-src|font-src/);
  });

  it('answers 404 for a message that does not exist', async () => {
    for (const path of ['/dev/mail/999999', '/dev/mail/abc', '/dev/mail/0', '/dev/mail/1e3']) {
      const response = await stack.request(path);
      expect(response.status, path).toBe(404);
      expect(response.headers.get('content-type'), path).toMatch(/^text\/html/);
    }
  });
});

describe('with SMTP_URL set', () => {
  it('has no /dev/mail at all', async () => {
    const unknown = await withSmtp.request('/dev/nothing-here');
    for (const path of ['/dev/mail', '/dev/mail/1']) {
      const response = await withSmtp.request(path);
      expect(response.status, path).toBe(404);
      const html = await response.text();
      expect(html).not.toContain('Development only');
    }
    expect(unknown.status).toBe(404);
  });
});

describe('from anywhere but this machine', () => {
  const paths = ['/dev/mail', '/dev/mail/', '/dev/mail/1', '/dev/mail/abc'];

  it('answers a peer on another address exactly as an unknown address', async () => {
    for (const ip of ['192.0.2.7', '10.0.0.5', '::ffff:192.0.2.7', '2001:db8::7', '0.0.0.0', '::']) {
      const unknown = await stack.request('/dev/nothing-here', { ip });
      expect(unknown.status).toBe(404);
      const expected = await unknown.text();
      for (const path of paths) {
        const response = await stack.request(path, { ip });
        expect(response.status, `${ip} ${path}`).toBe(404);
        expect(await response.text(), `${ip} ${path}`).toBe(expected);
      }
    }
  });

  it('answers a loopback peer, IPv4 (any of 127/8, also IPv4-mapped) or IPv6', async () => {
    for (const ip of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      const response = await stack.request('/dev/mail', { ip });
      expect(response.status, ip).toBe(200);
      expect(await response.text(), ip).toContain('Development only: these emails were not sent.');
    }
  });

  it('does not trust a forwarded address: through a proxy (even one on this machine) it is a 404', async () => {
    const expected = await (await behindProxy.request('/dev/nothing-here')).text();
    for (const forwarded of ['203.0.113.9', '127.0.0.1', '203.0.113.9, 127.0.0.1']) {
      for (const path of paths) {
        const response = await behindProxy.request(path, { headers: { 'x-forwarded-for': forwarded } });
        expect(response.status, `${forwarded} ${path}`).toBe(404);
        expect(await response.text()).toBe(expected);
      }
    }
    // Other forwarding headers count the same, with or without TRUST_PROXY.
    for (const header of ['forwarded', 'x-real-ip']) {
      const response = await stack.request('/dev/mail', { headers: { [header]: '127.0.0.1' } });
      expect(response.status, header).toBe(404);
    }
    // Straight from this machine, the proxied instance's mailbox still opens.
    expect((await behindProxy.request('/dev/mail')).status).toBe(200);
  });

  it('answers only a request addressed to this machine by name: a page rebound to 127.0.0.1 cannot read it', async () => {
    // A page of evil.example whose name now resolves to 127.0.0.1 calls /dev/mail from the
    // developer's browser: the connection is loopback, the Host header is evil.example.
    for (const host of ['evil.example', 'evil.example:3000', '127.0.0.1.evil.example']) {
      const response = await stack.request('/dev/mail', { headers: { host } });
      expect(response.status, host).toBe(404);
    }
    for (const host of ['localhost:3000', '127.0.0.1:3000', '[::1]:3000', 'localhost']) {
      const response = await stack.request('/dev/mail', { headers: { host } });
      expect(response.status, host).toBe(200);
    }
  });
});
