import { type DelegationState, delegationStates } from '../../../../core/delegation-machine.ts';
import type { StateCounts } from '../../../../services/campaigns/campaigns.ts';
import {
  type DelegationSort,
  type DelegationView,
  delegationSorts,
} from '../../../../services/delegations/delegations.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { utcMinute, utcSecond } from '../../shared/format.ts';
import { CountsByState, DashboardLayout, StatePill } from './layout.tsx';

export interface DelegationFilters {
  state?: DelegationState | undefined;
  campaignId?: string | undefined;
  expiringWithinDays?: number | undefined;
  sort?: DelegationSort | undefined;
}

const sortWords: Record<DelegationSort, string> = {
  newest: 'newest first',
  ends: 'ending soonest',
  company: 'company, A to Z',
};

export function DelegationListPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  counts: StateCounts;
  filters: DelegationFilters;
  delegations: DelegationView[];
  nextCursor: string | null;
  /** The campaigns to pick from, newest first. */
  campaigns: { id: string; name: string; createdAt: Date }[];
}) {
  const f = props.filters;
  const query = (extra: Record<string, string>) =>
    new URLSearchParams({
      ...(f.state ? { state: f.state } : {}),
      ...(f.campaignId ? { campaignId: f.campaignId } : {}),
      ...(f.expiringWithinDays !== undefined ? { expiringWithinDays: String(f.expiringWithinDays) } : {}),
      ...(f.sort ? { sort: f.sort } : {}),
      ...extra,
    }).toString();
  return (
    <DashboardLayout
      title="Delegations"
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/delegations"
      live
    >
      <section class="card" data-live="counts">
        <CountsByState
          states={delegationStates}
          counts={props.counts}
          href={(s) => `/dashboard/delegations?state=${s}`}
          label="Delegations by state"
          current={f.state}
        />
      </section>
      <section class="card">
        <form class="filters" method="get" action="/dashboard/delegations">
          <label>
            State
            <select name="state">
              <option value="">any</option>
              {delegationStates.map((s) => (
                <option value={s} selected={f.state === s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label>
            Campaign
            <select name="campaignId">
              <option value="">any</option>
              {f.campaignId && !props.campaigns.some((c) => c.id === f.campaignId) ? (
                <option value={f.campaignId} selected>
                  {f.campaignId}
                </option>
              ) : null}
              {props.campaigns.map((c) => (
                <option value={c.id} selected={f.campaignId === c.id}>
                  {`${c.name} (${utcMinute(c.createdAt)})`}
                </option>
              ))}
            </select>
          </label>
          <label>
            Sort
            <select name="sort">
              {delegationSorts.map((s) => (
                <option value={s} selected={(f.sort ?? 'newest') === s}>
                  {sortWords[s]}
                </option>
              ))}
            </select>
          </label>
          <label>
            Active and ending within (days)
            <input type="number" name="expiringWithinDays" min={0} max={3650} value={f.expiringWithinDays ?? ''} />
          </label>
          <button type="submit">Filter</button>
          <a href="/dashboard/delegations">Clear</a>
        </form>
        <div data-live="list">
          {props.delegations.length === 0 ? (
            <p class="muted">No delegations match.</p>
          ) : (
            <table>
              <thead>
                <tr>
                  <th scope="col">Recipient</th>
                  <th scope="col">Company</th>
                  <th scope="col">State</th>
                  <th scope="col">Access</th>
                  <th scope="col">Ends</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {props.delegations.map((d) => (
                  <tr>
                    <td>
                      <a href={`/dashboard/delegations/${d.id}`}>{d.recipient.email ?? d.id}</a>
                    </td>
                    <td>
                      {d.clientOrgId ? (
                        <a href={`/dashboard/clients/${d.clientOrgId}`}>{d.recipient.company ?? 'its organization'}</a>
                      ) : (
                        (d.recipient.company ?? '')
                      )}
                    </td>
                    <td>
                      <StatePill state={d.state} />
                    </td>
                    <td>{d.access}</td>
                    <td class="date">{utcSecond(d.endsAt)}</td>
                    <td class="date">{utcSecond(d.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          {f.sort && f.sort !== 'newest' && props.delegations.length >= 100 ? (
            <p class="muted">The first 100 by {sortWords[f.sort]}: narrow by state or campaign to see the rest.</p>
          ) : null}
          {props.nextCursor ? (
            <p>
              <a href={`/dashboard/delegations?${query({ cursor: props.nextCursor })}`}>Next page</a>
            </p>
          ) : null}
        </div>
      </section>
    </DashboardLayout>
  );
}
