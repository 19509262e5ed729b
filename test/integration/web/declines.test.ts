import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declineOffer } from '../../../services/offers/acceptance.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { signedInClient } from '../../helpers/dashboard.ts';
import { waitFor } from '../../helpers/factories.ts';
import { createOfferFixture } from '../../helpers/offer-fixtures.ts';
import { type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The partner is told about declines, like acceptances: one email to each owner per
 * decline (read from the SMTP server that received it), and the dashboard's overview
 * lists the latest ones, linking to all declined offers.
 */
let stack: TestStack;
let sink: SmtpSink;

beforeAll(async () => {
  sink = await startSmtpSink();
  stack = await createTestStack({ env: { SMTP_URL: sink.url }, workers: true });
});
afterAll(async () => {
  await stack.close();
  await sink.close();
});

const declinedMails = (to: string) =>
  sink.messages.filter((m) => m.to.includes(to.toLowerCase()) && /declined your/.test(m.subject ?? ''));

describe('a declined offer', () => {
  it('emails each owner once, even when declined twice at once or again', async () => {
    const fixture = await createOfferFixture(stack, {
      partnerName: 'Declined IT',
      recipients: ['no-thanks@client.example'],
      offer: { roles: [{ role: 'password_admin' }, { role: 'user_admin', optional: true }] },
    });
    await stack.deps.sql`update delegations set recipient_company = 'Fabrikam' where offer_id = ${fixture.offer.id}`;
    const { token, delegationId } = fixture.links.get('no-thanks@client.example') as {
      token: string;
      delegationId: string;
    };
    const browser = new PageClient(stack);
    await browser.get(`/offers/${token}`);
    // Two answers at once (the page and a second tab): one declines, the other is refused.
    const outcomes = await Promise.all([
      browser
        .post(`/offers/${token}/decline`, { confirm: 'yes' })
        .then((r) => (r.status === 200 ? 'declined' : r.status)),
      declineOffer(stack.deps, token, null).then(
        () => 'declined',
        (error: { code?: string }) => error.code,
      ),
    ]);
    expect(outcomes.filter((o) => o === 'declined')).toHaveLength(1);
    expect((await browser.post(`/offers/${token}/decline`, { confirm: 'yes' })).status).toBeGreaterThanOrEqual(400);

    const [mail] = await waitFor(async () => {
      const found = declinedMails(fixture.partner.email);
      return found.length > 0 ? found : undefined;
    });
    expect(mail?.subject).toBe('Fabrikam declined your delegated administration offer');
    expect(mail?.text).toContain(
      'Fabrikam declined your delegated administration offer, sent to no-thanks@client.example (declined by the recipient of the offer email).',
    );
    expect(mail?.text).toContain('You asked for: Password administrator.');
    expect(mail?.text).toContain(`See the delegation: http://mandate.test/dashboard/delegations/${delegationId}`);
    expect(mail?.text).not.toContain('/end/');
    await new Promise((r) => setTimeout(r, 300));
    expect(declinedMails(fixture.partner.email)).toHaveLength(1);
    const rows = await stack.deps
      .sql`select dedupe_key from emails where delegation_id = ${delegationId} and kind = 'declined'`;
    expect(rows.map((r) => r.dedupe_key)).toEqual([`declined.${delegationId}.${fixture.partner.email.toLowerCase()}`]);
  });

  it('is listed on the dashboard overview, newest first, with a link to every declined offer', async () => {
    const fixture = await createOfferFixture(stack, {
      partnerName: 'Overview IT',
      recipients: ['first@client.example', 'second@client.example', 'later@client.example'],
    });
    for (const recipient of ['first@client.example', 'second@client.example']) {
      await declineOffer(stack.deps, fixture.links.get(recipient)?.token as string, null);
    }
    const owner = await signedInClient(stack, fixture.partner.userId);
    const page = await owner.get('/dashboard');
    expect(page.status).toBe(200);
    const section = page.html.slice(page.html.indexOf('<section class="card" data-section="declines">'));
    expect(section).toContain('<h2>Recent declines</h2>');
    const second = section.indexOf('second@client.example');
    const first = section.indexOf('first@client.example');
    expect(second).toBeGreaterThan(0);
    expect(first).toBeGreaterThan(second);
    expect(section).not.toContain('later@client.example');
    const id = fixture.links.get('first@client.example')?.delegationId as string;
    expect(section).toContain(`<a href="/dashboard/delegations/${id}">first@client.example</a>`);
    expect(section).toContain('the recipient of the offer email');
    expect(section).toContain('<a href="/dashboard/delegations?state=declined">All declined offers (2)</a>');

    const list = await owner.get('/dashboard/delegations?state=declined');
    expect(list.html).toContain('first@client.example');
    expect(list.html).toContain('second@client.example');
    expect(list.html).not.toContain('later@client.example');

    // Another partner sees none of them.
    const other = await createOfferFixture(stack, { partnerName: 'Elsewhere IT', recipients: ['x@client.example'] });
    const theirs = await (await signedInClient(stack, other.partner.userId)).get('/dashboard');
    expect(theirs.html).toContain('No offer has been declined.');
    expect(theirs.html).not.toContain('first@client.example');
  });
});
