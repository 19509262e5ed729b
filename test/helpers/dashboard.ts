import { createSession } from '../../services/accounts/sessions.ts';
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

/**
 * Creates a staff member through the API as the owner; returns their user id and password.
 * Unless `passwordChosen: false`, the first-sign-in password change counts as done.
 */
export async function createStaffMember(
  stack: TestStack,
  ownerToken: string,
  access: 'none' | 'limited' | 'full',
  options: { passwordChosen?: boolean } = {},
): Promise<{ userId: string; email: string; password: string; token: string }> {
  const email = `staff-${Math.random().toString(36).slice(2, 10)}@partner.example`;
  const response = await stack.request('/v1/staff', {
    method: 'POST',
    token: ownerToken,
    json: { email, displayName: `Staff ${access}`, access },
  });
  if (response.status !== 201) throw new Error(`staff not created: ${response.status} ${await response.text()}`);
  const created = (await response.json()) as { userId: string; email: string; password: string; token: string };
  if (options.passwordChosen ?? true) {
    // As if they had chosen their own password at the first sign-in.
    await stack.deps.sql`update users set must_change_password = false where id = ${created.userId}`;
  }
  return created;
}
