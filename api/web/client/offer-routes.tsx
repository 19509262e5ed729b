import { eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { z } from 'zod';
import { AppError } from '../../../core/errors.ts';
import { type OfferLinkView, offerLinkView } from '../../../core/offer-link-view.ts';
import { normalizeEmail } from '../../../core/recipients.ts';
import { sortRoles } from '../../../core/roles.ts';
import { plainText } from '../../../core/text.ts';
import { delegations } from '../../../db/schema/index.ts';
import { createClientOrganization } from '../../../services/accounts/client-accounts.ts';
import { createSession } from '../../../services/accounts/sessions.ts';
import { startSignup } from '../../../services/accounts/signups.ts';
import { acceptOffer, declineOffer } from '../../../services/offers/acceptance.ts';
import { type ResolvedOfferLink, resolveOfferLink } from '../../../services/offers/offer-links.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import {
  clientIp,
  csrfToken,
  formFields,
  renderPage,
  sessionClient,
  setSessionCookie,
  verifyCsrf,
} from '../shared/context.ts';
import { MessagePage } from '../shared/layout.tsx';
import { chosenPassword } from '../shared/password-rules.ts';
import { attemptSignIn } from '../shared/sign-in.ts';
import { DeclineOfferPage, OfferPage, type OfferTermsView } from './pages/offer-page.tsx';
import { StatusPage } from './pages/status-page.tsx';

const goneMessages: Record<Extract<OfferLinkView, { page: 'gone' }>['reason'], string> = {
  revoked: 'The partner has withdrawn this offer. Ask them for a new one if you still want to work with them.',
  expired: 'This offer has expired. Ask the partner for a new one.',
  declined: 'This offer was declined. The partner has no access.',
  answered:
    'This offer has already been answered. A global administrator of the organization that accepted it can see it under their delegations.',
  ended: 'The delegation from this offer has ended.',
};

async function resolve(c: Context<AppEnv>, token: string): Promise<ResolvedOfferLink> {
  const viewer = c.var.viewer;
  const link = await resolveOfferLink(c.var.deps.db, token, viewer?.orgKind === 'client' ? viewer.orgId : null);
  if (!link) throw new AppError('NOT_FOUND', 'This offer link is not valid. Check that you copied all of it.');
  return link;
}

/** Whether this link currently shows the offer with its sign-in and sign-up forms. */
async function showsOfferForms(c: Context<AppEnv>, token: string): Promise<boolean> {
  const view = offerLinkView((await resolve(c, token)).facts, c.var.viewer);
  return view.page === 'offer' && view.who === 'anonymous';
}

/** Renders whatever the link shows this viewer; with `problem`, the offer form again with an error. */
async function showOffer(
  c: Context<AppEnv>,
  token: string,
  problem?: { error: string; status: number; values?: Record<string, string> },
): Promise<Response> {
  const link = await resolve(c, token);
  const viewer = c.var.viewer;
  const view = offerLinkView(link.facts, viewer);
  if (view.page === 'gone') {
    return renderPage(
      c,
      <MessagePage title="This link can no longer be used" message={goneMessages[view.reason]} />,
      410,
    );
  }
  if (view.page === 'status') {
    const [d] = await c.var.deps.db.select().from(delegations).where(eq(delegations.id, view.delegationId));
    if (!d) throw new AppError('NOT_FOUND', 'No such delegation');
    return renderPage(
      c,
      <StatusPage
        partnerName={link.partnerName}
        roles={sortRoles(d.roles)}
        state={d.state}
        endsAt={d.endsAt}
        autoExtend={d.autoExtend}
        failureReason={d.failureReason}
        alreadyLive={c.req.query('already') === '1'}
      />,
    );
  }
  return renderPage(
    c,
    <OfferPage
      token={token}
      csrf={csrfToken(c)}
      who={view.who}
      viewer={viewer ? { email: viewer.email, orgName: viewer.orgName } : null}
      error={problem?.error}
      // A personal link knows whom it was sent to: the new organization's form starts filled in.
      values={{
        newEmail: link.delegation?.recipientEmail ?? '',
        orgName: link.delegation?.recipientCompany ?? '',
        adminName: link.delegation?.recipientName ?? '',
        ...problem?.values,
      }}
      terms={offerTerms(link)}
    />,
    problem?.status ?? 200,
  );
}

function offerTerms(link: ResolvedOfferLink): OfferTermsView {
  return {
    partnerName: link.partnerName,
    roles: link.roles,
    optionalRoles: link.optionalRoles,
    durationDays: link.delegation?.durationDays ?? link.offer.durationDays,
    autoExtend: link.delegation?.autoExtend ?? link.offer.autoExtend,
    offerExpiresAt: link.offer.expiresAt,
    personal: link.facts.kind === 'personal',
  };
}

const newOrganization = z.object({
  orgName: plainText(200),
  adminName: plainText(200),
  email: z.string().transform((value, ctx) => {
    const result = normalizeEmail(value);
    if ('reason' in result) {
      ctx.addIssue({ code: 'custom', message: result.reason });
      return z.NEVER;
    }
    return result.email;
  }),
  password: chosenPassword,
});

export function registerOfferPages(app: WebApp): void {
  app.get('/offers/:token', (c) => showOffer(c, c.req.param('token')));

  app.post('/offers/:token/sign-in', async (c) => {
    const token = c.req.param('token');
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    // Only where the page offers the form: not through a withdrawn or answered link.
    if (!(await showsOfferForms(c, token))) return showOffer(c, token);
    // With two-factor sign-in on, the code is asked for first, then back to the offer.
    const result = await attemptSignIn(c, form, `/offers/${token}`);
    if (!result.ok) {
      return showOffer(c, token, {
        error: 'The email or password is not right.',
        status: 401,
        values: { email: result.email },
      });
    }
    return c.redirect(result.location, 303);
  });

  app.post('/offers/:token/create-org', async (c) => {
    const token = c.req.param('token');
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    if (!(await showsOfferForms(c, token))) return showOffer(c, token);
    await c.var.deps.rateLimits.consume('createOrgPerIp', clientIp(c));
    const values = { orgName: form.orgName ?? '', adminName: form.adminName ?? '', newEmail: form.email ?? '' };
    const parsed = newOrganization.safeParse(form);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field =
        { orgName: 'Organization name', adminName: 'Your name', email: 'Email', password: 'Password' }[
          String(issue?.path[0])
        ] ?? '';
      return showOffer(c, token, { error: `${field}: ${issue?.message ?? 'not valid'}`, status: 422, values });
    }
    const link = await resolve(c, token);
    const recipient = link.delegation?.recipientEmail?.toLowerCase();
    if (recipient && recipient === parsed.data.email.toLowerCase()) {
      // The personal link reached this mailbox: the address is proven, create at once.
      try {
        const { userId } = await createClientOrganization(c.var.deps.db, parsed.data);
        setSessionCookie(c, await createSession(c.var.deps.db, userId, sessionClient(c), { method: 'new_account' }));
      } catch (error) {
        if (error instanceof AppError && error.code === 'CONFLICT') {
          return showOffer(c, token, { error: error.message, status: 409, values });
        }
        throw error;
      }
      return c.redirect(`/offers/${token}`, 303);
    }
    // Any other address must be confirmed first; the answer is the same whether or not
    // it already has an account.
    await startSignup(c.var.deps, { ...parsed.data, returnTo: `/offers/${token}` });
    return renderPage(
      c,
      <MessagePage
        title="Check your email"
        message={`We sent a link to ${parsed.data.email}. Open it within an hour to confirm the address and create ${parsed.data.orgName}; then you can accept the offer.`}
      />,
    );
  });

  app.post('/offers/:token/accept', async (c) => {
    const token = c.req.param('token');
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const viewer = c.var.viewer;
    if (!viewer) return showOffer(c, token, { error: 'Sign in as a global administrator first.', status: 401 });
    await c.var.deps.rateLimits.consume('acceptPerIp', clientIp(c));
    await c.var.deps.rateLimits.consume('acceptPerAccount', viewer.userId);
    // Each optional role's checkbox sends `role.<name>` while ticked.
    const kept = Object.keys(form)
      .filter((name) => name.startsWith('role.'))
      .map((name) => name.slice('role.'.length));
    try {
      const result = await acceptOffer(c.var.deps, token, viewer, c.var.requestId, kept);
      return c.redirect(`/offers/${token}${result.alreadyLive ? '?already=1' : ''}`, 303);
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'VALIDATION_FAILED')) throw error;
      const what = error.issues?.map((issue) => issue.message).join('; ') ?? error.message;
      return showOffer(c, token, { error: `Nothing was granted: ${what}. Choose again below.`, status: 422 });
    }
  });

  // Declining is two steps, the first changing nothing: this page says what it means,
  // its button declines. Only where the offer page has the button (a personal link not
  // answered yet, not to a signed-in user who may not answer); elsewhere, the offer page.
  app.get('/offers/:token/decline', async (c) => {
    const token = c.req.param('token');
    const link = await resolve(c, token);
    const view = offerLinkView(link.facts, c.var.viewer);
    if (view.page !== 'offer' || view.who === 'not-allowed' || link.facts.kind !== 'personal') {
      return showOffer(c, token);
    }
    return renderPage(c, <DeclineOfferPage token={token} csrf={csrfToken(c)} terms={offerTerms(link)} />);
  });

  app.post('/offers/:token/decline', async (c) => {
    const token = c.req.param('token');
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    // Without the confirmation's field (a form from before, a stray post), ask first.
    if (form.confirm !== 'yes') return c.redirect(`/offers/${token}/decline`, 303);
    await c.var.deps.rateLimits.consume('acceptPerIp', clientIp(c));
    const link = await resolve(c, token);
    await declineOffer(c.var.deps, token, c.var.viewer, c.var.requestId);
    return renderPage(
      c,
      <MessagePage
        title="Offer declined"
        kind="ok"
        message={`You declined the offer from ${link.partnerName}. They have been given no access.`}
      />,
    );
  });
}
