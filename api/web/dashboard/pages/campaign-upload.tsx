import type { FieldIssue } from '../../../../core/errors.ts';
import { MAX_RECIPIENTS } from '../../../../core/recipients.ts';
import type { CampaignUploadView } from '../../../../services/campaigns/uploads.ts';
import type { OfferView } from '../../../../services/offers/offers.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { utcMinute } from '../../shared/format.ts';
import { SUBMISSION_FIELD } from '../submit-once.ts';
import { DashboardLayout } from './layout.tsx';
import { RejectedRows } from './rejected-rows.tsx';

/** Step one: an offer, a name, a CSV file. Nothing is sent from this form. */
export function NewCampaignPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  /** The offers still open to new recipients. */
  offers: OfferView[];
  values?: { offerId?: string | undefined; name?: string | undefined } | undefined;
  error?: { message: string; issues?: FieldIssue[] | undefined } | undefined;
}) {
  return (
    <DashboardLayout title="New campaign" principal={props.principal} csrf={props.csrf} section="/dashboard/campaigns">
      {props.error ? (
        <div class="error" role="alert">
          <p>{props.error.message}</p>
          {props.error.issues && props.error.issues.length > 0 ? (
            <ul>
              {props.error.issues.map((issue) => (
                <li>{`${issue.path}: ${issue.message}`}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      <section class="card">
        {props.offers.length === 0 ? (
          <p>
            No offer is open to new recipients: <a href="/dashboard/offers">create an offer</a> first.
          </p>
        ) : (
          <form method="post" action="/dashboard/campaigns/new" enctype="multipart/form-data" class="filters">
            <input type="hidden" name="csrf" value={props.csrf} />
            <p class="muted" style="flex-basis:100%">
              {`A CSV file (UTF-8, comma-separated) with a header row: an email column, and optionally name and company — at most ${MAX_RECIPIENTS.toLocaleString('en')} rows. The next page lists the rows that would not be sent, before anything is sent.`}
            </p>
            <label>
              Offer
              <select name="offerId" required>
                {props.offers.map((o) => (
                  <option value={o.id} selected={props.values?.offerId === o.id}>
                    {o.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Campaign name (optional)
              <input
                type="text"
                name="name"
                maxlength={200}
                value={props.values?.name ?? ''}
                placeholder="The offer's name and the time"
              />
            </label>
            <label>
              Recipients (CSV)
              <input type="file" name="file" accept=".csv,text/csv" required />
            </label>
            <button type="submit">Upload and check</button>
          </form>
        )}
      </section>
    </DashboardLayout>
  );
}

/** Step two: what would be sent and what not, then "Send to N recipients". */
export function UploadPreviewPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  /** A fresh submission key for the form (../submit-once.ts). */
  submission: string;
  upload: CampaignUploadView;
}) {
  const { upload } = props;
  const refused = upload.rejected.length;
  return (
    <DashboardLayout
      title={`Check the list${upload.fileName ? `: ${upload.fileName}` : ''}`}
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/campaigns"
    >
      <section class="card">
        <dl class="facts">
          <dt>Offer</dt>
          <dd>
            <a href={`/dashboard/offers/${upload.offer.id}`}>{upload.offer.name}</a>
          </dd>
          <dt>Campaign name</dt>
          <dd>{upload.name ?? 'The offer’s name and the time it is sent'}</dd>
          <dt>Rows in the file</dt>
          <dd>{upload.rows}</dd>
          <dt>Would be sent</dt>
          <dd data-testid="upload-valid">{upload.valid}</dd>
          <dt>Not sent</dt>
          <dd data-testid="upload-rejected">{refused}</dd>
        </dl>
        <div class="actions">
          {upload.campaignId ? (
            <p>
              Sent: <a href={`/dashboard/campaigns/${upload.campaignId}`}>follow its campaign</a>.
            </p>
          ) : upload.expired ? (
            <p>
              This list is no longer kept (an upload waits an hour):{' '}
              <a href="/dashboard/campaigns/new">upload it again</a>.
            </p>
          ) : upload.valid === 0 ? (
            <p>
              No row of this file can be sent: fix it and <a href="/dashboard/campaigns/new">upload it again</a>.
            </p>
          ) : (
            <form method="post" action={`/dashboard/campaigns/uploads/${upload.id}/send`} autocomplete="off">
              <input type="hidden" name="csrf" value={props.csrf} />
              <input type="hidden" name={SUBMISSION_FIELD} value={props.submission} />
              <button type="submit">{`Send to ${upload.valid} ${upload.valid === 1 ? 'recipient' : 'recipients'}`}</button>{' '}
              <a href="/dashboard/campaigns/new">Upload another file instead</a>
              <span class="muted">{` · kept until ${utcMinute(upload.expiresAt)} UTC`}</span>
            </form>
          )}
        </div>
      </section>
      {refused > 0 ? (
        <section class="card">
          <h2>{`Rows not sent (${refused})`}</h2>
          <RejectedRows rows={upload.rejected} total={refused} />
        </section>
      ) : null}
    </DashboardLayout>
  );
}
