import { delegationStates } from '../../../../core/delegation-machine.ts';
import { seesClientOrganizations } from '../../../../core/partner-permissions.ts';
import type { OperationState } from '../../../../db/schema/index.ts';
import type { StateCounts } from '../../../../services/campaigns/campaigns.ts';
import type { Bucket, CampaignSummary } from '../../../../services/dashboard/dashboard.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { hourMinute, monthDay } from '../../shared/format.ts';
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
