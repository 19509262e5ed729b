import { type DelegationState, delegationStates } from '../../../../core/delegation-machine.ts';
import type { RejectedRecipient } from '../../../../core/recipients.ts';
import type { CampaignView, RecipientView } from '../../../../services/campaigns/campaigns.ts';
import { MAX_REMIND_AFTER_DAYS, type ReminderView } from '../../../../services/campaigns/reminders.ts';
import type { Bucket, CampaignSummary, SendRate } from '../../../../services/dashboard/dashboard.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { hourMinute, utcSecond } from '../../shared/format.ts';
import { newSubmission, SUBMISSION_FIELD } from '../submit-once.ts';
import { BarChart } from './charts.tsx';
import { CountsByState, DashboardLayout, StatePill } from './layout.tsx';
import { ProgressBar, progressOf } from './progress.tsx';
import { RejectedRows } from './rejected-rows.tsx';

export function CampaignListPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  campaigns: CampaignSummary[];
  /** May send offers: the "New campaign" link. */
  mayCreate: boolean;
}) {
  return (
    <DashboardLayout
      title="Campaigns"
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/campaigns"
      live
    >
      {props.mayCreate ? (
        <div class="actions">
          <a class="button" href="/dashboard/campaigns/new">
            New campaign from a CSV file…
          </a>
        </div>
      ) : null}
      <section class="card" data-live="campaigns">
        {props.campaigns.length === 0 ? (
          <p>
            No campaign yet.{props.mayCreate ? ' Send one from a CSV file, or' : ' Campaigns are sent'} with{' '}
            <code>POST /v1/campaigns</code> (see the <a href="/docs">API reference</a>).
          </p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Campaign</th>
                <th scope="col">Started</th>
                <th scope="col">Progress</th>
                <th scope="col" class="num">
                  Sent
                </th>
                <th scope="col" class="num">
                  Failed
                </th>
                <th scope="col" class="num">
                  Waiting
                </th>
                <th scope="col" class="num">
                  Accepted
                </th>
              </tr>
            </thead>
            <tbody>
              {props.campaigns.map((c) => {
                const p = progressOf(c.counts, c.total);
                return (
                  <tr>
                    <td>
                      <a href={`/dashboard/campaigns/${c.id}`}>{c.name}</a>
                    </td>
                    <td class="date">{utcSecond(c.createdAt)}</td>
                    <td style="width:25%">
                      <ProgressBar counts={c.counts} total={c.total} />
                    </td>
                    <td class="num">{p.sent}</td>
                    <td class="num">
                      {p.failed > 0 ? <a href={`/dashboard/campaigns/${c.id}?state=failed`}>{p.failed}</a> : 0}
                    </td>
                    <td class="num">{p.waiting}</td>
                    <td class="num">{c.counts.active + c.counts.accepting}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
    </DashboardLayout>
  );
}

export interface CampaignPageProps {
  principal: PartnerPrincipal;
  csrf: string;
  campaign: CampaignView;
  rate: SendRate;
  sends: Bucket[];
  /** Which recipients are listed: a state, or all. */
  state: string | undefined;
  recipients: RecipientView[];
  nextCursor: string | null;
  /** The first rows refused when the campaign was created (`campaign.rejectedCount` in all). */
  rejected: RejectedRecipient[];
  reminders: { reminders: ReminderView[]; next: number };
  /** The submission key of this rendering's reminder form (../submit-once.ts). */
  submission: string;
  mayRetry: boolean;
  notice?: string | undefined;
}

const perSecond = (n: number | null) => (n === null ? '—' : `${n.toFixed(n >= 10 ? 0 : 1)} / s`);

export function CampaignPage(props: CampaignPageProps) {
  const { campaign } = props;
  const p = progressOf(campaign.counts, campaign.total);
  const base = `/dashboard/campaigns/${campaign.id}`;
  const listed = props.state ? `${props.state} recipients` : 'All recipients';
  const csvHref = `${base}/recipients.csv${props.state ? `?state=${props.state}` : ''}`;
  return (
    <DashboardLayout
      title={`Campaign: ${campaign.name}`}
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/campaigns"
      live
    >
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      <section class="card" data-live="progress">
        <p>
          <strong data-testid="campaign-status">{p.done ? 'Done' : 'Sending'}</strong>
          {' — '}
          <span data-testid="campaign-progress">{`${p.sent + p.failed} of ${campaign.total} recipients handled (${p.percent}%)`}</span>
          {campaign.rejectedCount > 0 ? (
            <span class="muted">{` · ${campaign.rejectedCount} rows refused when the campaign was created`}</span>
          ) : null}
        </p>
        <ProgressBar counts={campaign.counts} total={campaign.total} />
        <CountsByState
          states={delegationStates}
          counts={campaign.counts}
          href={(s) => `${base}?state=${s}`}
          label="Recipients by state"
          current={props.state as DelegationState | undefined}
        />
        <dl class="facts" style="margin-top:1rem">
          <dt>Send rate, last minute</dt>
          <dd data-testid="rate-recent">{perSecond(props.rate.lastMinutePerSecond)}</dd>
          <dt>Send rate, whole campaign</dt>
          <dd>{perSecond(props.rate.overallPerSecond)}</dd>
          <dt>Started</dt>
          <dd>{utcSecond(campaign.createdAt)}</dd>
          <dt>Last email sent</dt>
          <dd>{utcSecond(props.rate.lastSentAt)}</dd>
        </dl>
      </section>
      {props.mayRetry && (campaign.counts.offered > 0 || props.reminders.reminders.length > 0) ? (
        <Reminders
          base={base}
          csrf={props.csrf}
          submission={props.submission}
          offered={campaign.counts.offered}
          {...props.reminders}
        />
      ) : null}
      {campaign.rejectedCount > 0 ? (
        <section class="card">
          <h2>{`Rows refused when the campaign was created (${campaign.rejectedCount})`}</h2>
          <p class="muted">These were not sent: their addresses were not valid, or repeated an earlier row.</p>
          <RejectedRows rows={props.rejected} total={campaign.rejectedCount} />
        </section>
      ) : null}
      <section class="card">
        <h2>Emails sent per minute, last hour</h2>
        <div data-live="sends">
          <BarChart
            title="This campaign's emails per minute over the last hour"
            buckets={props.sends}
            label={hourMinute}
            every={10}
          />
        </div>
      </section>
      <section class="card" data-live="recipients">
        <h2>{listed}</h2>
        <div class="actions">
          <a href={base} aria-current={props.state ? undefined : 'page'}>
            All
          </a>
          <a
            href={`${base}?state=failed`}
            aria-current={props.state === 'failed' ? 'page' : undefined}
            class={campaign.counts.failed > 0 ? 'attention' : undefined}
          >
            {`Failed (${campaign.counts.failed})`}
          </a>
          <a href={`${base}?state=invited`}>{`Waiting (${campaign.counts.invited})`}</a>
          <a class="button" href={csvHref} download>
            Export CSV
          </a>
          {props.mayRetry && campaign.counts.failed > 0 ? (
            <a class="button" href={`${base}/retry`}>
              Retry all failed sends…
            </a>
          ) : null}
        </div>
        {props.recipients.length === 0 ? (
          <p class="muted">No recipients here.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Recipient</th>
                <th scope="col">Company</th>
                <th scope="col">State</th>
                <th scope="col" class="num">
                  Attempts
                </th>
                <th scope="col">Mail server's reply</th>
                <th scope="col">
                  <span class="muted">Action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.recipients.map((r) => (
                <tr data-recipient={r.email}>
                  <td>
                    <a href={`/dashboard/delegations/${r.delegationId}`}>{r.email}</a>
                    {r.name ? <div class="muted">{r.name}</div> : null}
                  </td>
                  <td>{r.company ?? ''}</td>
                  <td>
                    <StatePill state={r.state} />
                  </td>
                  <td class="num">{r.sendAttempts}</td>
                  <td class="reply">{r.smtpReply ?? r.failureReason ?? ''}</td>
                  <td>
                    {props.mayRetry && r.state === 'failed' && r.acceptedAt === null ? (
                      <RetryRecipientForm
                        campaignId={campaign.id}
                        delegationId={r.delegationId}
                        csrf={props.csrf}
                        next={props.state ? `${base}?state=${props.state}` : base}
                      />
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {props.nextCursor ? (
          <p>
            <a
              href={`${base}?${new URLSearchParams({ ...(props.state ? { state: props.state } : {}), cursor: props.nextCursor })}`}
            >
              Next page
            </a>
          </p>
        ) : null}
      </section>
    </DashboardLayout>
  );
}

/**
 * "Remind everyone still offered after N days" (not refreshed live: it holds an input), and
 * the reminders sent so far. The form carries the next reminder's number.
 */
function Reminders(props: {
  base: string;
  csrf: string;
  submission: string;
  offered: number;
  reminders: ReminderView[];
  next: number;
}) {
  return (
    <section class="card">
      <h2>Reminders</h2>
      {props.offered > 0 ? (
        <form method="post" action={`${props.base}/remind`} class="actions" autocomplete="off">
          <input type="hidden" name="csrf" value={props.csrf} />
          <input type="hidden" name={SUBMISSION_FIELD} value={props.submission} />
          <input type="hidden" name="number" value={String(props.next)} />
          <label>
            {'Remind everyone still offered after '}
            <input
              type="number"
              name="afterDays"
              min={1}
              max={MAX_REMIND_AFTER_DAYS}
              value="7"
              required
              style="width:5rem"
            />
            {' days'}
          </label>
          <button type="submit">{`Send reminder ${props.next}`}</button>
          <span class="muted">{`${props.offered} ${props.offered === 1 ? 'recipient has' : 'recipients have'} not answered yet. The days count from each one's last email (the offer or a reminder); each gets one email per reminder, with the link of their offer.`}</span>
        </form>
      ) : null}
      {props.reminders.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th scope="col" class="num">
                Reminder
              </th>
              <th scope="col">Asked</th>
              <th scope="col">By</th>
              <th scope="col" class="num">
                After days
              </th>
              <th scope="col" class="num">
                Recipients
              </th>
              <th scope="col">Emails</th>
            </tr>
          </thead>
          <tbody>
            {props.reminders.map((r) => (
              <tr data-reminder={r.number}>
                <td class="num">{r.number}</td>
                <td class="date">{utcSecond(r.createdAt)}</td>
                <td>{r.createdBy}</td>
                <td class="num">{r.afterDays}</td>
                <td class="num">{r.recipients}</td>
                <td>{r.recorded ? 'written to the outbox' : 'being written'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

/** Sends one failed recipient's offer again, even one a mail server refused for good. */
export function RetryRecipientForm(props: {
  campaignId: string;
  delegationId: string;
  csrf: string;
  /** Where to come back to. */
  next: string;
  label?: string;
}) {
  return (
    <form method="post" action={`/dashboard/campaigns/${props.campaignId}/retry`} class="inline" autocomplete="off">
      <input type="hidden" name="csrf" value={props.csrf} />
      <input type="hidden" name={SUBMISSION_FIELD} value={newSubmission()} />
      <input type="hidden" name="delegationId" value={props.delegationId} />
      {/* One recipient named: asked for, whatever its server answered (its reply is on the same row). */}
      <input type="hidden" name="includePermanent" value="on" />
      <input type="hidden" name="next" value={props.next} />
      <button type="submit" class="secondary">
        {props.label ?? 'Retry'}
      </button>
    </form>
  );
}
