import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amendmentProposedForClient } from '../../../core/emails/amendments.ts';
import { acceptedForPartner, receiptForClient, terminatedNotice } from '../../../core/emails/notifications.ts';
import { migrationsFolder } from '../../../db/migrate.ts';
import { amendmentLinkToken, endLinkToken } from '../../../lib/secrets.ts';
import { createClientOrganization } from '../../../services/accounts/client-accounts.ts';
import { endDelegationUrl } from '../../../services/mail/end-links.ts';
import { enqueueEmails, recordEmails } from '../../../services/mail/outbox.ts';
import { runLifecycle } from '../../../services/maintenance/lifecycle.ts';
import { createActiveDelegation, postAmendment } from '../../helpers/amendment-fixtures.ts';
import { PageClient } from '../../helpers/browser-client.ts';
import { waitFor } from '../../helpers/factories.ts';
import { type ReceivedMail, type SmtpSink, startSmtpSink } from '../../helpers/smtp-sink.ts';
import { createTestStack, type TestStack } from '../../helpers/stack.ts';

/**
 * The keys of the "End this delegation" links and of the amendment links are derived from
 * LINK_SECRET when an email is sent (docs/adr/0002): the outbox keeps a placeholder, so a
 * database dump holds no key. The keys expected are computed here from the secret, and what
 * went out is read from the SMTP server that received it.
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

/** Every row of every table of the database, as text: what a dump would hold. */
async function databaseText(): Promise<string[]> {
  const tables = await stack.deps.sql`
    select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`;
  const rows: string[] = [];
  for (const { table_name } of tables) {
    const found = await stack.deps.sql.unsafe(`select t::text as row from "${table_name}" t`);
    rows.push(...found.map((r) => `${table_name}: ${r.row}`));
  }
  return rows;
}

/** Waits until every outbox email is sent and the SMTP server has that many messages. */
async function allSent(): Promise<number> {
  return sentOrTell();
}

/** On a timeout, says what the outbox and the SMTP server hold (a bare timeout tells nothing). */
async function sentOrTell(): Promise<number> {
  try {
    return await everySent();
  } catch (error) {
    const states = await stack.deps.sql`select kind, state, attempts, to_email from emails order by created_at`;
    const received = sink.messages.map((m) => [m.to, m.subject]);
    throw new Error(`${(error as Error).message}: ${JSON.stringify({ received, states })}`);
  }
}

async function everySent(): Promise<number> {
  return waitFor(async () => {
    const [row] = await stack.deps.sql`
      select count(*)::int as total, count(*) filter (where state = 'sent')::int as sent from emails`;
    // The fixture's offer email goes out by send-offer, not the outbox — or not at all, when
    // the fixture accepts before the worker gets to it: it is not one of the outbox's.
    const fromOutbox = sink.messages.filter((m) => !/offers to administer/.test(m.subject ?? '')).length;
    return row?.total === row?.sent && fromOutbox === row?.total ? (row?.total as number) : undefined;
    // Nine emails through real workers and SMTP: on a loaded two-core machine this has taken
    // over 30 s (the test's own limit is raised to match).
  }, 50_000);
}

const mailsTo = (to: string, words: string) =>
  sink.messages.filter((m) => m.to.includes(to.toLowerCase()) && (m.subject ?? '').includes(words));

/** The path of every `/end/` or `/amendments/` link of a message, from its text and its HTML. */
function linkPaths(mail: ReceivedMail) {
  const find = (body: string, attribute: boolean) =>
    [...body.matchAll(/(href=")?http:\/\/mandate\.test(\/(?:end|amendments)\/[^\s"<]+)/g)]
      .filter((m) => !attribute || m[1])
      .map((m) => m[2] as string);
  return { text: find(mail.text, false), html: find(mail.html, true) };
}

describe('link keys in the outbox', () => {
  it('no row holds an end key or an amendment token, and each admin still receives working links of their own', async () => {
    const { delegationId, admin, owner, fixture } = await createActiveDelegation(stack, [
      'password_admin',
      'user_admin',
    ]);
    const secondEmail = `second-${delegationId.slice(-8)}@client.example`;
    const second = await createClientOrganization(stack.deps.db, {
      orgName: 'ignored',
      adminName: 'Second',
      email: secondEmail,
      password: 'correct horse battery staple',
    });
    await stack.deps.sql`update users set org_id = ${admin.orgId} where id = ${second.userId}`;

    // A reduction (applied at once) and an addition (a personal link to each admin).
    const proposal = await postAmendment(stack, owner, delegationId, {
      removeRoles: ['user_admin'],
      addRoles: ['domain_admin'],
    });
    expect(proposal.status).toBe(202);
    const amendmentId = proposal.body.id;
    // An expiry notice to both sides.
    await stack.deps.sql`update delegations set ends_at = now() + interval '5 days' where id = ${delegationId}`;
    await runLifecycle(stack.deps);

    const secret = stack.config.linkSecret;
    const endPath = `/end/${delegationId}/${endLinkToken(secret, delegationId)}`;
    const personal = new Map([
      [admin.email, `/amendments/${amendmentLinkToken(secret, amendmentId, admin.userId)}`],
      [secondEmail, `/amendments/${amendmentLinkToken(secret, amendmentId, second.userId)}`],
    ]);
    const keys = [endLinkToken(secret, delegationId), ...[...personal.values()].map((p) => p.split('/').at(-1))];

    // Receipt, reduction, proposal and expiry notice: 1 + 2 + 2 + 2 to the admins, 2 to the owner.
    expect(await allSent()).toBe(9);
    for (const to of [admin.email, secondEmail]) {
      const received = sink.messages.filter((m) => m.to.includes(to));
      expect(received, to).toHaveLength(to === admin.email ? 4 : 3);
      for (const mail of received) {
        const links = linkPaths(mail);
        const expected = mail.subject?.includes('asks for more') ? [personal.get(to), endPath] : [endPath];
        expect(links.text, `${to}: ${mail.subject}`).toEqual(expected);
        expect(links.html, `${to}: ${mail.subject}`).toEqual(expected);
      }
    }
    for (const mail of sink.messages.filter((m) => m.to.includes(fixture.partner.email.toLowerCase()))) {
      expect(linkPaths(mail)).toEqual({ text: [], html: [] });
    }

    // What a dump of the database holds: the emails, but no key and no keyed link.
    const rows = await databaseText();
    const emailRows = rows.filter((r) => r.startsWith('emails: '));
    expect(emailRows).toHaveLength(9);
    expect(emailRows.filter((r) => r.includes('End this delegation'))).toHaveLength(7);
    for (const row of rows) {
      for (const key of keys) expect(row).not.toContain(key);
      expect(row).not.toMatch(/\/end\/dlg_|\/amendments\/[A-Za-z0-9_-]{43}/);
    }

    // The links that went out work: the amendment page asks its admin to sign in, the end page asks to confirm.
    const [proposed] = mailsTo(secondEmail, 'asks for more');
    const browser = new PageClient(stack);
    const review = await browser.get(linkPaths(proposed as ReceivedMail).text[0] as string);
    expect(review.status).toBe(200);
    expect(review.html).toContain('Sign in as a global administrator of');
    const endPage = await browser.get(linkPaths(proposed as ReceivedMail).text[1] as string);
    expect(endPage.status).toBe(200);
    expect(endPage.html).toContain('End the delegation to');

    // Someone who read a placeholder in the table names the partner with it: it stays a name.
    const [stored] = await stack.deps
      .sql`select links from emails where kind = 'receipt' and delegation_id = ${delegationId}`;
    const seen = Object.keys(stored?.links as object)[0] as string;
    expect(seen).toMatch(/^\{\{link:end:[A-Za-z0-9_-]{22}\}\}$/);
    await stack.deps.sql`update organizations set name = ${seen} where id = ${fixture.partner.partnerId}`;
    const ended = await browser.post(endPath);
    expect(ended.html).toContain('The delegation has been ended');

    // The termination notices (the admins' copies with the end link) are no different.
    expect(await allSent()).toBe(12);
    for (const to of [admin.email, secondEmail]) {
      const [notice] = mailsTo(to, 'has ended');
      expect(linkPaths(notice as ReceivedMail)).toEqual({ text: [endPath], html: [endPath] });
      expect(notice?.text).toContain(`The delegated administration of Client Org by ${seen} was ended`);
    }
    const [toPartner] = mailsTo(fixture.partner.email, 'has ended');
    expect(toPartner?.text).toContain(`${seen} can no longer act in Client Org.`);
    expect(linkPaths(toPartner as ReceivedMail)).toEqual({ text: [], html: [] });
    for (const row of await databaseText()) {
      for (const key of keys) expect(row).not.toContain(key);
      expect(row).not.toMatch(/\/end\/dlg_|\/amendments\/[A-Za-z0-9_-]{43}/);
    }
  }, 90_000);

  it('emails recorded before: the migration turns their keyed links into placeholders, and pending ones still work', async () => {
    const { delegationId, admin, owner, fixture } = await createActiveDelegation(stack, ['password_admin']);
    const proposal = await postAmendment(stack, owner, delegationId, { addRoles: ['domain_admin'] });
    expect(proposal.status).toBe(202);
    const secret = stack.config.linkSecret;
    const endUrl = endDelegationUrl(stack.config, delegationId);
    const token = amendmentLinkToken(secret, proposal.body.id, admin.userId);
    const reviewUrl = `http://mandate.test/amendments/${token}`;
    // Rendered and recorded as before the change: the URLs, keys included, in the bodies.
    const facts = {
      partnerName: 'Legacy Partner',
      clientName: 'Client Org',
      roles: ['password_admin'] as const,
      endsAt: new Date(),
      autoExtend: false,
    };
    // A partner named like the end link of the delegation (it does not know the key).
    const lookalike = `<a href="${endUrl.slice(0, -1)}${endUrl.endsWith('A') ? 'B' : 'A'}">End this delegation</a>`;
    const legacy = (kind: string, toEmail: string, content: { subject: string; text: string; html: string }) => ({
      dedupeKey: `legacy.${kind}.${delegationId}`,
      kind,
      delegationId,
      toEmail,
      content,
    });
    const ids = await recordEmails(stack.deps.db, 'localhost', [
      legacy('receipt', admin.email, receiptForClient(facts, 'http://mandate.test/org/delegations', endUrl)),
      legacy(
        'amendment-proposed',
        admin.email,
        amendmentProposedForClient(facts, ['Adds Domain administrator.'], { reviewUrl, endUrl, answerBy: new Date() }),
      ),
      legacy('terminated', admin.email, terminatedNotice(facts, 'someone', endUrl)),
      legacy('accepted', fixture.partner.email, acceptedForPartner({ ...facts, partnerName: lookalike }, 'x')),
    ]);
    expect(ids).toHaveLength(4);
    const [receiptId, proposedId, sentId, lookalikeId] = ids as [string, string, string, string];
    await stack.deps.sql`update emails set state = 'sent' where id = ${sentId}`;
    const before = await stack.deps.sql`select id, text_body, html_body from emails where id = ${lookalikeId}`;

    // The migration's data statements (its first one, adding the column, has run already).
    const file = readdirSync(migrationsFolder).find((f) => f.endsWith('_email_link_placeholders.sql')) as string;
    const statements = readFileSync(join(migrationsFolder, file), 'utf8').split('--> statement-breakpoint');
    expect(statements[0]).toContain('ADD COLUMN "links"');
    for (const statement of statements.slice(1)) await stack.deps.sql.unsafe(statement);

    const rows = await stack.deps
      .sql`select id, text_body, html_body, links from emails where id in ${stack.deps.sql(ids)}`;
    const byId = new Map(rows.map((r) => [r.id as string, r]));
    for (const id of [receiptId, proposedId, sentId]) {
      const row = byId.get(id);
      expect(JSON.stringify(row)).not.toContain(endLinkToken(secret, delegationId));
      expect(JSON.stringify(row)).not.toContain(token);
      expect(row?.text_body).toContain('End this delegation: {{link:end:');
    }
    expect(Object.values(byId.get(proposedId)?.links as object)).toEqual([
      { kind: 'end', delegationId },
      { kind: 'amendment', amendmentId: proposal.body.id, userId: admin.userId },
    ]);
    // The look-alike was a name, not a link the template wrote: untouched.
    expect(byId.get(lookalikeId)?.links).toEqual({});
    expect(byId.get(lookalikeId)?.text_body).toBe(before[0]?.text_body);
    expect(byId.get(lookalikeId)?.html_body).toBe(before[0]?.html_body);

    // Sent now, the pending ones carry the links they always had, and the review link works.
    await enqueueEmails(stack.deps, [receiptId, proposedId]);
    const receipt = await waitFor(async () => mailsTo(admin.email, 'You granted Legacy Partner')[0]);
    const endPath = new URL(endUrl).pathname;
    expect(linkPaths(receipt)).toEqual({ text: [endPath], html: [endPath] });
    const [proposed] = await waitFor(async () => {
      const found = mailsTo(admin.email, 'Legacy Partner asks for more');
      return found.length > 0 ? found : undefined;
    });
    const reviewPath = `/amendments/${token}`;
    expect(linkPaths(proposed as ReceivedMail)).toEqual({ text: [reviewPath, endPath], html: [reviewPath, endPath] });
    expect((await new PageClient(stack).get(reviewPath)).status).toBe(200);
  });
});
