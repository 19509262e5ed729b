import { getCampaign } from '../../../services/campaigns/campaigns.ts';
import { remindCampaign } from '../../../services/campaigns/reminders.ts';
import { countFailedSends, retryFailedSends } from '../../../services/campaigns/retry.ts';
import { assertCanSendOffers } from '../../../services/offers/offers.ts';
import type { WebApp } from '../../env.ts';
import { csrfToken, formFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { safeNext } from '../shared/sign-in.ts';
import { RetryConfirmPage } from './pages/campaign-retry.tsx';
import { withNotice } from './query.ts';
import { newSubmission, SUBMISSION_FIELD, submitOnce } from './submit-once.ts';

/**
 * Looking after a campaign once it is sent: reminding those who have not answered, sending
 * failed offers again. Through the
 * services the partner API uses (services/campaigns/), with their permission checks.
 */
export function registerCampaignCarePages(app: WebApp): void {
  // The confirmation before a retry of every failed recipient: how many of each kind.
  app.get('/dashboard/campaigns/:id/retry', async (c) => {
    const { db } = c.var.deps;
    const p = c.var.principal;
    assertCanSendOffers(p);
    const campaign = await getCampaign(db, p, c.req.param('id'));
    return renderPage(
      c,
      <RetryConfirmPage
        principal={p}
        csrf={csrfToken(c)}
        submission={newSubmission()}
        campaign={campaign}
        failed={await countFailedSends(db, p, campaign.id)}
      />,
    );
  });

  // "Remind everyone still offered after N days": the number the page showed makes a
  // second click of the same form the same reminder.
  app.post('/dashboard/campaigns/:id/remind', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    const sent = await submitOnce(
      c,
      form[SUBMISSION_FIELD],
      async () => {
        const reminded = await remindCampaign(
          c.var.deps,
          c.var.principal,
          id,
          { afterDays: Number(form.afterDays), number: form.number ? Number(form.number) : undefined },
          c.var.requestId,
        );
        return withNotice(`/dashboard/campaigns/${id}`, {
          notice: 'reminded',
          n: String(reminded.recipients),
          ...(reminded.number === null ? {} : { r: String(reminded.number) }),
          days: form.afterDays ?? '',
        });
      },
      { inCommit: false },
    );
    return c.redirect(sent.location, 303);
  });

  // All failed recipients (those a server refused for good only when ticked), or the one
  // named: a retry of one recipient is asked for that recipient, refused or not.
  app.post('/dashboard/campaigns/:id/retry', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    const back = safeNext(form.next, `/dashboard/campaigns/${id}`);
    const sent = await submitOnce(
      c,
      form[SUBMISSION_FIELD],
      async () => {
        const { retried, skippedPermanent } = await retryFailedSends(
          c.var.deps,
          c.var.principal,
          id,
          {
            delegationIds: form.delegationId ? [form.delegationId] : undefined,
            includePermanent: form.includePermanent === 'on',
          },
          c.var.requestId,
        );
        const skipped: Record<string, string> = skippedPermanent > 0 ? { skipped: String(skippedPermanent) } : {};
        return withNotice(back, { notice: 'retried', n: String(retried), ...skipped });
      },
      { inCommit: false },
    );
    return c.redirect(sent.location, 303);
  });
}
