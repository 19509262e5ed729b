import type { CampaignView } from '../../../../services/campaigns/campaigns.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { SUBMISSION_FIELD } from '../submit-once.ts';
import { DashboardLayout } from './layout.tsx';

/**
 * "Send the failed offers again?": how many failed for a reason that may pass on another
 * try, how many a mail server refused for good (left out unless ticked), then the button.
 */
export function RetryConfirmPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  /** A fresh submission key for the form (../submit-once.ts). */
  submission: string;
  campaign: CampaignView;
  failed: { permanent: number; temporary: number };
}) {
  const { campaign, failed } = props;
  const base = `/dashboard/campaigns/${campaign.id}`;
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return (
    <DashboardLayout
      title={`Retry failed sends: ${campaign.name}`}
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/campaigns"
    >
      <section class="card">
        {failed.permanent + failed.temporary === 0 ? (
          <p>Nothing to retry: no recipient of this campaign is failed any more.</p>
        ) : (
          <form method="post" action={`${base}/retry`} autocomplete="off">
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name={SUBMISSION_FIELD} value={props.submission} />
            <dl class="facts">
              <dt>Failed for a reason that may pass</dt>
              <dd data-testid="retry-temporary">
                {`${plural(failed.temporary, 'recipient', 'recipients')} (temporary replies until the attempts ran out, interrupted sends): sent again.`}
              </dd>
              <dt>Refused for good by a mail server</dt>
              <dd data-testid="retry-permanent">
                {`${plural(failed.permanent, 'recipient', 'recipients')} (a 5xx reply such as 550 user unknown, or a bounce): left alone, since the same email fails the same way until the address is fixed.`}
              </dd>
            </dl>
            {failed.permanent > 0 ? (
              <p>
                <label>
                  <input type="checkbox" name="includePermanent" value="on" />
                  {` Also retry the ${plural(failed.permanent, 'permanent refusal', 'permanent refusals')}`}
                </label>
              </p>
            ) : null}
            <div class="actions">
              <button type="submit">Send the offer again</button>
              <a href={`${base}?state=failed`}>Back to the failed recipients</a>
            </div>
          </form>
        )}
      </section>
    </DashboardLayout>
  );
}
