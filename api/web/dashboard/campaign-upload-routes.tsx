import type { Context } from 'hono';
import { AppError, type ErrorCode, isAppError } from '../../../core/errors.ts';
import { decodeRecipientsCsv, parseRecipientsCsv } from '../../../core/recipients-csv.ts';
import { getCampaignUpload, sendCampaignUpload, uploadCampaignList } from '../../../services/campaigns/uploads.ts';
import { assertCanSendOffers, listOffers } from '../../../services/offers/offers.ts';
import type { AppEnv, WebApp } from '../../env.ts';
import { fieldIssues } from '../../problem.ts';
import { CreateCampaignCsvQuery } from '../../routes/campaigns/schemas.ts';
import { csrfToken, formFields, multipartFields, renderPage, verifyCsrf } from '../shared/context.ts';
import { NewCampaignPage, UploadPreviewPage } from './pages/campaign-upload.tsx';
import { withNotice } from './query.ts';
import { newSubmission, SUBMISSION_FIELD, submitOnce } from './submit-once.ts';

/** Where the recipient list is posted: the one dashboard form with a file (its body limit is the upload's). */
export const CAMPAIGN_UPLOAD_PATH = '/dashboard/campaigns/new';

/** What is wrong with the file or the choices in the form: said beside the form, to try again. */
const formProblems = new Set<ErrorCode>([
  'VALIDATION_FAILED',
  'MALFORMED_CSV',
  'TOO_MANY_RECIPIENTS',
  'OFFER_REVOKED',
  'OFFER_EXPIRED',
  'NOT_FOUND',
]);

async function newCampaignPage(
  c: Context<AppEnv>,
  extra: Pick<Parameters<typeof NewCampaignPage>[0], 'values' | 'error'> = {},
  status = 200,
) {
  const p = c.var.principal;
  assertCanSendOffers(p);
  const offers = await listOffers(c.var.deps.db, p, { limit: 100 });
  const now = Date.now();
  const open = offers.items.filter((o) => o.revokedAt === null && Date.parse(o.expiresAt) > now);
  return renderPage(c, <NewCampaignPage principal={p} csrf={csrfToken(c)} offers={open} {...extra} />, status);
}

/**
 * A campaign from a CSV file, in two steps: the upload, checked as `POST /v1/campaigns`
 * checks it (the same CSV reading, the same screening of rows, the same service checks) and
 * kept server-side (docs/adr/0028); a page listing what would be sent and every row that
 * would not (its number and why); then "Send to N recipients", which creates the campaign
 * from the kept rows through `createCampaign` and leads to its live progress.
 */
export function registerCampaignUploadPages(app: WebApp): void {
  app.get(CAMPAIGN_UPLOAD_PATH, (c) => {
    const offerId = c.req.query('offerId');
    return newCampaignPage(c, { values: { offerId } });
  });

  app.post(CAMPAIGN_UPLOAD_PATH, async (c) => {
    const { fields, files } = await multipartFields(c);
    verifyCsrf(c, fields.csrf);
    const values = { offerId: fields.offerId, name: fields.name };
    try {
      // The API's CSV query, so the same rules for the offer and the name.
      const chosen = CreateCampaignCsvQuery.safeParse({ offerId: fields.offerId, name: fields.name || undefined });
      if (!chosen.success || !chosen.data.offerId) {
        throw new AppError('VALIDATION_FAILED', 'Choose an offer, and a name of at most 200 characters on one line.', {
          issues: chosen.success ? [{ path: 'offerId', message: 'required' }] : fieldIssues(chosen.error),
        });
      }
      const file = files.file;
      if (!file || file.size === 0) throw new AppError('VALIDATION_FAILED', 'Choose a CSV file of recipients.');
      const recipients = parseRecipientsCsv(decodeRecipientsCsv(await file.arrayBuffer()));
      const { id } = await uploadCampaignList(c.var.deps, c.var.principal, {
        offerId: chosen.data.offerId,
        name: chosen.data.name,
        fileName: file.name,
        recipients,
      });
      return c.redirect(`/dashboard/campaigns/uploads/${id}`, 303);
    } catch (error) {
      if (!isAppError(error) || !formProblems.has(error.code)) throw error;
      return newCampaignPage(c, { values, error: { message: error.message, issues: error.issues } }, error.status);
    }
  });

  app.get('/dashboard/campaigns/uploads/:id', async (c) => {
    const p = c.var.principal;
    const upload = await getCampaignUpload(c.var.deps.db, p, c.req.param('id'));
    return renderPage(
      c,
      <UploadPreviewPage principal={p} csrf={csrfToken(c)} submission={newSubmission()} upload={upload} />,
    );
  });

  app.post('/dashboard/campaigns/uploads/:id/send', async (c) => {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    const id = c.req.param('id');
    const sent = await submitOnce(
      c,
      form[SUBMISSION_FIELD],
      async () => {
        const created = await sendCampaignUpload(c.var.deps, c.var.principal, id, c.var.requestId);
        return withNotice(`/dashboard/campaigns/${created.campaignId}`, {
          notice: created.alreadySent ? 'campaign-already-sent' : 'campaign-sent',
          n: String(created.total),
        });
      },
      { inCommit: false },
    );
    return c.redirect(sent.location, 303);
  });
}
