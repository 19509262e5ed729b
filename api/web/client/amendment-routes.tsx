import type { Context } from 'hono';
import { type AmendmentLinkView, amendmentLinkView } from '../../../core/amendment-link-view.ts';
import { AppError } from '../../../core/errors.ts';
import {
  acceptAmendment,
  declineAmendment,
  type ResolvedAmendmentLink,
  resolveAmendmentLink,
} from '../../../services/delegations/amendment-answers.ts';
import { changeOf } from '../../../services/mail/amendment-notifications.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { clientIp, csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { MessagePage } from '../shared/layout.tsx';
import { attemptSignIn } from '../shared/sign-in.ts';
import {
  AmendmentAnsweredPage,
  AmendmentNotAllowedPage,
  AmendmentPage,
  AmendmentSignInPage,
} from './pages/amendment-page.tsx';

const goneMessages: Record<Extract<AmendmentLinkView, { page: 'gone' }>['reason'], string> = {
  accepted: 'This change was already accepted and is in effect. Nothing was changed again.',
  declined: 'This change was declined. Nothing was changed.',
  expired: 'This request expired without an answer. Nothing was changed; the partner may ask again.',
  cancelled: 'The delegation ended before this request was answered, so there is nothing left to change.',
  ended: 'The delegation has ended, so there is nothing left to change.',
};

/** What the link points at, and what it shows the viewer now (core/amendment-link-view.ts). */
async function viewFor(c: Context<AppEnv>, token: string) {
  const link = await resolveAmendmentLink(c.var.deps.db, token);
  if (!link) throw new AppError('NOT_FOUND', 'This link is not valid. Check that you copied all of it.');
  return { link, view: amendmentLinkView(link.facts, c.var.viewer) };
}

/** Renders a view; with `signInError`, the sign-in form again with it. */
function renderView(
  c: Context<AppEnv>,
  token: string,
  { link, view }: { link: ResolvedAmendmentLink; view: AmendmentLinkView },
  signInError?: { error: string; email: string },
): Response {
  const viewer = c.var.viewer;
  const names = { token, partnerName: link.partnerName, clientName: link.clientName };
  switch (view.page) {
    case 'not-allowed':
      return renderPage(
        c,
        <AmendmentNotAllowedPage token={token} csrf={csrfToken(c)} viewerEmail={viewer?.email ?? ''} />,
        403,
      );
    case 'gone':
      return renderPage(
        c,
        <MessagePage title="This link can no longer be used" message={goneMessages[view.reason]} />,
        410,
      );
    case 'sign-in':
      return renderPage(
        c,
        <AmendmentSignInPage facts={names} csrf={csrfToken(c)} error={signInError?.error} email={signInError?.email} />,
        signInError ? 401 : 200,
      );
    case 'proposal':
      return renderPage(
        c,
        <AmendmentPage
          csrf={csrfToken(c)}
          viewerEmail={viewer?.email ?? ''}
          facts={{
            ...names,
            change: changeOf(link.amendment),
            before: link.before,
            after: link.after,
            expiresAt: link.amendment.expiresAt,
          }}
        />,
      );
  }
}

/**
 * The page a client's global admin reaches from an amendment email: sign in (the client
 * sign-in, with its rate limits), see before → after, accept or decline. Another
 * organization's account gets 403; an answered, expired or dead request 410.
 */
export function registerAmendmentPages(app: WebApp): void {
  app.get('/amendments/:token', async (c) =>
    renderView(c, c.req.param('token'), await viewFor(c, c.req.param('token'))),
  );

  app.post('/amendments/:token/sign-in', async (c) => {
    const token = c.req.param('token');
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    // Only where the page offers the form: nobody signed in, and something to answer.
    const shown = await viewFor(c, token);
    if (shown.view.page !== 'sign-in') return renderView(c, token, shown);
    const result = await attemptSignIn(c, form, `/amendments/${token}`);
    if (!result.ok) {
      return renderView(c, token, shown, { error: 'The email or password is not right.', email: result.email });
    }
    return c.redirect(result.location, 303);
  });

  for (const answer of ['accept', 'decline'] as const) {
    app.post(`/amendments/:token/${answer}`, async (c) => {
      const token = c.req.param('token');
      const form = await formFields(c);
      verifyCsrf(c, form.csrf);
      // Answered already, dead, another organization, nobody signed in: the page says so,
      // and nothing changes.
      const shown = await viewFor(c, token);
      const viewer = c.var.viewer;
      if (shown.view.page !== 'proposal' || !viewer) return renderView(c, token, shown);
      await c.var.deps.rateLimits.consume('acceptPerIp', clientIp(c));
      await c.var.deps.rateLimits.consume('acceptPerAccount', viewer.userId);
      const verb = answer === 'accept' ? acceptAmendment : declineAmendment;
      const result = await verb(c.var.deps, token, viewer, c.var.requestId);
      return renderPage(
        c,
        <AmendmentAnsweredPage
          answer={answer === 'accept' ? 'accepted' : 'declined'}
          partnerName={result.partnerName}
          before={result.before}
          after={result.after}
        />,
      );
    });
  }
}
