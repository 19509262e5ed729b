import { randomBytes } from 'node:crypto';
import { type DerivedLinks, fillDerivedLinks } from '../../core/emails/derived-links.ts';
import { sha256Hex } from '../../lib/secrets.ts';
import { createSession } from '../../services/accounts/sessions.ts';
import { derivedLinkUrl } from '../../services/mail/derived-links.ts';
import { PageClient } from './browser-client.ts';
import type { TestStack } from './stack.ts';

/** A page client already signed in as this user (a session made directly, as sign-in would). */
export async function signedInClient(stack: TestStack, userId: string): Promise<PageClient> {
  const browser = new PageClient(stack);
  browser.cookies.set(
    'mandate_session',
    await createSession(stack.deps.db, userId, { address: browser.ip, userAgent: undefined }),
  );
  await browser.get('/sign-in'); // picks up a CSRF cookie
  return browser;
}

/** Marks the browser's session as having passed a second factor just now (what /account/confirm does). */
export async function stepUp(browser: PageClient): Promise<void> {
  const token = browser.cookies.get('mandate_session') ?? '';
  await browser.stack.deps.sql`update sessions set second_factor_at = now() where id = ${sha256Hex(token)}`;
}

/**
 * The newest outbox email of `kind` to `email`, its text as it goes out: link placeholders
 * replaced by their URLs the way the sending worker does (services/mail/outbox.ts).
 */
export async function deliveredText(stack: TestStack, email: string, kind: string): Promise<string | undefined> {
  const [row] = await stack.deps.sql<{ text_body: string; html_body: string; links: DerivedLinks }[]>`
    select text_body, html_body, links from emails
    where lower(to_email) = lower(${email}) and kind = ${kind} order by created_at desc, id desc limit 1`;
  if (!row) return undefined;
  return fillDerivedLinks({ text: row.text_body, html: row.html_body }, row.links, (link) =>
    derivedLinkUrl(stack.config, link),
  ).text;
}

/** The path of the invitation link in the newest invitation email to `email`. */
export async function invitationPath(stack: TestStack, email: string): Promise<string> {
  const text = await deliveredText(stack, email, 'staff-invitation');
  const path = text && /\/invitations\/[A-Za-z0-9_-]{43}/.exec(text)?.[0];
  if (!path) throw new Error(`no invitation link emailed to ${email}`);
  return path;
}

/** Accepts the invitation at `path` with `password`; returns the browser, signed in on the dashboard. */
export async function acceptInvitationAs(stack: TestStack, path: string, password: string): Promise<PageClient> {
  const browser = new PageClient(stack);
  const page = await browser.get(path);
  if (page.status !== 200) throw new Error(`invitation page: ${page.status}`);
  const accepted = await browser.post(path, { password, repeat: password });
  if (accepted.status !== 303) throw new Error(`invitation not accepted: ${accepted.status} ${accepted.html}`);
  return browser;
}

/**
 * Creates an API token on the dashboard's tokens page as the signed-in `browser`; returns
 * it. The session is first marked as having just passed a second factor, as the step-up
 * would (test/integration/web/two-factor-policy.test.ts tests the step-up itself).
 */
export async function createOwnToken(browser: PageClient, label = 'test'): Promise<string> {
  await stepUp(browser);
  // The scopes the form offers, all ticked at first, as a browser would send them.
  const form = await browser.get('/dashboard/tokens');
  const scopes = [...form.html.matchAll(/name="(scope:[^"]+)"/g)].map((m) => [m[1] as string, 'on']);
  const created = await browser.post('/dashboard/tokens', { label, ...Object.fromEntries(scopes) });
  const token = /mdt_[A-Za-z0-9_-]{43}/.exec(created.html)?.[0];
  if (created.status !== 201 || !token) throw new Error(`token not created: ${created.status}`);
  return token;
}

/**
 * A staff member made the way an owner and a new colleague do it: the owner invites
 * through the API, the invitee follows the emailed link and chooses a password, then
 * creates an API token on the dashboard. Returns their user id, password and token.
 * With `passwordChosen: false`, the account must choose a new password at the next
 * sign-in (as after a temporary password).
 */
export async function createStaffMember(
  stack: TestStack,
  ownerToken: string,
  /** A preset, or the invited roles. */
  access: 'none' | 'limited' | 'full' | string[],
  options: { passwordChosen?: boolean; email?: string } = {},
): Promise<{ userId: string; email: string; password: string; token: string }> {
  const email = options.email ?? `staff-${randomBytes(4).toString('hex')}@partner.example`;
  const password = `pw-${randomBytes(12).toString('base64url')}`;
  const response = await stack.request('/v1/staff', {
    method: 'POST',
    token: ownerToken,
    json: Array.isArray(access)
      ? { email, displayName: `Staff ${access.join(' ')}`, roles: access }
      : { email, displayName: `Staff ${access}`, access },
  });
  if (response.status !== 202) throw new Error(`staff not invited: ${response.status} ${await response.text()}`);
  const browser = await acceptInvitationAs(stack, await invitationPath(stack, email), password);
  const token = await createOwnToken(browser);
  const [user] = await stack.deps.sql<{ id: string }[]>`select id from users where lower(email) = lower(${email})`;
  if (!user) throw new Error('the accepted invitation created no user');
  if (options.passwordChosen === false) {
    await stack.deps.sql`update users set must_change_password = true where id = ${user.id}`;
  }
  return { userId: user.id, email, password, token };
}
