import { delegationStates } from '../../../../core/delegation-machine.ts';
import { seesClientOrganizations } from '../../../../core/partner-permissions.ts';
import type { OperationState } from '../../../../db/schema/index.ts';
import type { StateCounts } from '../../../../services/campaigns/campaigns.ts';
import type { Bucket, CampaignSummary, RecentDecline } from '../../../../services/dashboard/dashboard.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { hourMinute, monthDay, utcMinute } from '../../shared/format.ts';
import { BarChart } from './charts.tsx';
import { CountsByState, DashboardLayout, operationStatesShown } from './layout.tsx';
import { ProgressBar, progressOf } from './progress.tsx';

export interface OverviewProps {
  principal: PartnerPrincipal;
  csrf: string;
  delegations: StateCounts;
  operations: Record<OperationState, number>;
  campaigns: CampaignSummary[];
  sends: Bucket[];
  acceptances: Bucket[];
  /** The latest declines, newest first. */
  declines: RecentDecline[];
}

export function OverviewPage(props: OverviewProps) {
  const running = props.campaigns.filter((c) => !progressOf(c.counts, c.total).done);
  return (
    <DashboardLayout title="Overview" principal={props.principal} csrf={props.csrf} section="/dashboard" live>
      <div data-live="overview">
        <section class="card">
          <h2>Delegations</h2>
          <CountsByState
            states={delegationStates}
            counts={props.delegations}
            href={(s) => `/dashboard/delegations?state=${s}`}
            label="Delegations by state"
          />
        </section>
        {seesClientOrganizations(props.principal) ? (
          <section class="card">
            <h2>Operations</h2>
            <CountsByState
              states={operationStatesShown}
              counts={props.operations}
              href={(s) => `/dashboard/operations?state=${s}`}
              label="Operations by state"
            />
          </section>
        ) : null}
        <section class="card">
          <h2>Campaigns sending now</h2>
          {running.length === 0 ? (
            <p class="muted">
              None. <a href="/dashboard/campaigns">All campaigns</a>
            </p>
          ) : (
            <table>
              <tbody>
                {running.map((c) => {
                  const p = progressOf(c.counts, c.total);
                  return (
                    <tr>
                      <td>
                        <a href={`/dashboard/campaigns/${c.id}`}>{c.name}</a>
                      </td>
                      <td style="width:40%">
                        <ProgressBar counts={c.counts} total={c.total} />
                      </td>
                      <td class="num">{`${p.sent + p.failed} / ${c.total}`}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )}
        </section>
        <RecentDeclines declines={props.declines} total={props.delegations.declined} />
        <div class="grid2">
          <section class="card">
            <h2>Offer emails sent per minute, last hour</h2>
            <BarChart
              title="Offer emails sent per minute over the last hour"
              buckets={props.sends}
              label={hourMinute}
              every={10}
            />
          </section>
          <section class="card">
            <h2>Acceptances per day, last 30 days</h2>
            <BarChart
              title="Acceptances per day over the last 30 days"
              buckets={props.acceptances}
              label={monthDay}
              every={5}
            />
          </section>
        </div>
      </div>
    </DashboardLayout>
  );
}

/** Who said no lately: each decline links to its delegation, the count to all of them. */
function RecentDeclines(props: { declines: RecentDecline[]; total: number }) {
  return (
    <section class="card" data-section="declines">
      <h2>Recent declines</h2>
      {props.declines.length === 0 ? (
        <p class="muted">No offer has been declined.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">When (UTC)</th>
              <th scope="col">Recipient</th>
              <th scope="col">Company</th>
              <th scope="col">Declined by</th>
            </tr>
          </thead>
          <tbody>
            {props.declines.map((d) => (
              <tr data-delegation={d.delegationId}>
                <td class="date">{utcMinute(d.declinedAt)}</td>
                <td>
                  <a href={`/dashboard/delegations/${d.delegationId}`}>{d.recipientEmail ?? d.delegationId}</a>
                </td>
                <td>{d.recipientCompany ?? '—'}</td>
                <td>{d.declinedBy ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <p>
        <a href="/dashboard/delegations?state=declined">{`All declined offers (${props.total})`}</a>
      </p>
    </section>
  );
}
