import type { Context } from 'hono';
import { z } from 'zod';
import { type FieldIssue, isAppError } from '../../../core/errors.ts';
import { canSendOffers } from '../../../core/partner-permissions.ts';
import { roles } from '../../../core/roles.ts';
import { createOffer, getOffer, listOffers, revokeOffer } from '../../../services/offers/offers.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { fieldIssues } from '../../problem.ts';
import { CreateOfferBody } from '../../routes/offers/schemas.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { type OfferFormValues, OfferListPage, OfferPage } from './pages/offers.tsx';
import { notice, PAGE, query, withNotice } from './query.ts';
import { newSubmission, SUBMISSION_FIELD, submitOnce } from './submit-once.ts';

const OfferListQuery = z.object({ cursor: z.string().max(200).optional() });

/**
 * The create form as the API's body (the same schema, so the same checks): a role is asked
 * for when its box is ticked, optional when its second box is too.
 */
function offerBodyOf(form: Record<string, string>): unknown {
  const number = (value: string | undefined) => (value === undefined || value === '' ? undefined : Number(value));
  return {
    name: form.name ?? '',
    roles: roles
      .filter((role) => form[`role:${role}`] === 'on')
      .map((role) => ({ role, optional: form[`optional:${role}`] === 'on' })),
    durationDays: number(form.durationDays),
    autoExtend: form.autoExtend === 'on',
    expiresInDays: number(form.expiresInDays),
  };
}

async function offerListPage(
  c: Context<AppEnv>,
  extra: { issues?: FieldIssue[]; values?: OfferFormValues } = {},
  status = 200,
) {
  const p = c.var.principal;
  const page = await listOffers(c.var.deps.db, p, { ...query(c, OfferListQuery), limit: PAGE });
  return renderPage(
    c,
    <OfferListPage
      principal={p}
      csrf={csrfToken(c)}
      submission={newSubmission()}
      offers={page.items}
      nextCursor={page.nextCursor}
      mayCreate={canSendOffers(p)}
      notice={notice(c)}
      {...extra}
    />,
    status,
  );
}

/**
 * Offers: the list, creating one (the API's body and checks, through the same service
 * verb), one offer with its reusable link for those who may see it, and withdrawing it.
 */
export function registerOfferPages(app: WebApp): void {
  app.get('/dashboard/offers', (c) => offerListPage(c));

  app.post('/dashboard/offers', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const body = CreateOfferBody.safeParse(offerBodyOf(form));
    const { csrf: _csrf, [SUBMISSION_FIELD]: _submission, ...values } = form;
    if (!body.success) return offerListPage(c, { issues: fieldIssues(body.error), values }, 422);
    try {
      const sent = await submitOnce(
        c,
        form[SUBMISSION_FIELD],
        async () => {
          const offer = await createOffer(c.var.deps, c.var.principal, body.data, c.var.requestId);
          return withNotice(`/dashboard/offers/${offer.id}`, { notice: 'offer-created' });
        },
        { inCommit: false },
      );
      return c.redirect(sent.location, 303);
    } catch (error) {
      // The terms' own rules (auto-extend with full access…): shown beside the form.
      if (isAppError(error, 'VALIDATION_FAILED') && error.issues) {
        return offerListPage(c, { issues: error.issues, values }, 422);
      }
      throw error;
    }
  });

  app.get('/dashboard/offers/:id', async (c) => {
    const p = c.var.principal;
    return renderPage(
      c,
      <OfferPage
        principal={p}
        csrf={csrfToken(c)}
        submission={newSubmission()}
        offer={await getOffer(c.var.deps, p, c.req.param('id'))}
        mayChange={canSendOffers(p)}
        notice={notice(c)}
      />,
    );
  });

  app.post('/dashboard/offers/:id/revoke', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    const sent = await submitOnce(
      c,
      form[SUBMISSION_FIELD],
      async () => {
        const revoked = await revokeOffer(c.var.deps, c.var.principal, id, c.var.requestId);
        return withNotice(`/dashboard/offers/${id}`, {
          notice: 'offer-revoked',
          n: String(revoked.terminatedDelegations),
        });
      },
      { inCommit: false },
    );
    return c.redirect(sent.location, 303);
  });
}
