import type { Context } from 'hono';
import { createSession } from '../../../services/accounts/sessions.ts';
import { acceptInvitation, findInvitation } from '../../../services/accounts/staff-invitations.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, sessionClient, setSessionCookie, verifyCsrf } from '../shared/context.ts';
import { newPasswordForm } from '../shared/password-rules.ts';
import { InvitationPage } from './pages/invitation-page.tsx';

/**
 * The link of a staff invitation (services/accounts/staff-invitations.ts): a page with a
 * password form rather than an action on GET, so a mail scanner that opens links uses
 * nothing up. Accepting creates the account and signs it in on the dashboard.
 */
export function registerInvitationPages(app: WebApp): void {
  const page = async (c: Context<AppEnv>, error?: string, status = 200) => {
    const token = c.req.param('token') ?? '';
    const invitation = await findInvitation(c.var.deps, token);
    return renderPage(
      c,
      <InvitationPage {...invitation} action={`/invitations/${token}`} csrf={csrfToken(c)} error={error} />,
      status,
    );
  };

  app.get('/invitations/:token', (c) => page(c));

  app.post('/invitations/:token', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const token = c.req.param('token');
    // A dead link gets its page before any password is hashed.
    await findInvitation(c.var.deps, token);
    const parsed = newPasswordForm.safeParse(form);
    if (!parsed.success) return page(c, parsed.error.issues[0]?.message, 422);
    const { userId } = await acceptInvitation(c.var.deps, token, parsed.data.password);
    setSessionCookie(c, await createSession(c.var.deps.db, userId, sessionClient(c), { method: 'new_account' }));
    return c.redirect('/dashboard', 303);
  });
}
