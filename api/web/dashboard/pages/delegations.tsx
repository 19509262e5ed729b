import { type DelegationState, delegationStates } from '../../../../core/delegation-machine.ts';
import { seesClientOrganizations } from '../../../../core/partner-permissions.ts';
import type { StateCounts } from '../../../../services/campaigns/campaigns.ts';
import type { DelegationEventView, DelegationView } from '../../../../services/delegations/delegations.ts';
import type { OperationView } from '../../../../services/operations/views.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { CountsByState, DashboardLayout, StatePill, stamp } from '../layout.tsx';
import { RetryRecipientForm } from './campaigns.tsx';
import { OperationsTable } from './operations.tsx';

export interface DelegationFilters {
  state?: DelegationState | undefined;
  campaignId?: string | undefined;
  expiringWithinDays?: number | undefined;
}

export function DelegationListPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  counts: StateCounts;
  filters: DelegationFilters;
  delegations: DelegationView[];
  nextCursor: string | null;
}) {
  const f = props.filters;
  const query = (extra: Record<string, string>) =>
    new URLSearchParams({
      ...(f.state ? { state: f.state } : {}),
      ...(f.campaignId ? { campaignId: f.campaignId } : {}),
      ...(f.expiringWithinDays !== undefined ? { expiringWithinDays: String(f.expiringWithinDays) } : {}),
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
            Campaign id
            <input type="text" name="campaignId" value={f.campaignId ?? ''} placeholder="cmp_…" size={40} />
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
                    <td>{d.recipient.company ?? ''}</td>
                    <td>
                      <StatePill state={d.state} />
                    </td>
                    <td>{d.access}</td>
                    <td class="date">{stamp(d.endsAt)}</td>
                    <td class="date">{stamp(d.updatedAt)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
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

const eventWords: Record<string, string> = {
  send_succeeded: 'Offer email accepted by the mail server',
  send_failed: 'Offer email failed',
  retry_send: 'Offer email retried',
  accept: 'Accepted by the client',
  decline: 'Declined by the client',
  activate: 'Access granted',
  activation_failed: 'Could not be granted',
  answer_timeout: 'Unanswered: expired',
  end_reached: 'Reached its end',
  auto_extend: 'Extended automatically',
  extend: 'Extended',
  terminate: 'Ended',
};

export function DelegationPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  delegation: DelegationView & { events: DelegationEventView[] };
  operations: OperationView[] | null;
  mayRetry: boolean;
  notice?: string | undefined;
}) {
  const d = props.delegation;
  return (
    <DashboardLayout
      title={`Delegation: ${d.recipient.company ?? d.recipient.email ?? d.id}`}
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/delegations"
      live
    >
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      <section class="card" data-live="facts">
        <dl class="facts">
          <dt>State</dt>
          <dd>
            <StatePill state={d.state} />
          </dd>
          <dt>Recipient</dt>
          <dd>{[d.recipient.name, d.recipient.email].filter(Boolean).join(' · ') || '—'}</dd>
          <dt>Company</dt>
          <dd>{d.recipient.company ?? '—'}</dd>
          <dt>Access</dt>
          <dd>{`${d.access} (${d.roles.join(', ') || 'no roles'}) for ${d.durationDays} days${d.autoExtend ? ', renews automatically' : ''}`}</dd>
          <dt>Campaign</dt>
          <dd>
            {d.campaignId ? <a href={`/dashboard/campaigns/${d.campaignId}`}>{d.campaignId}</a> : 'reusable link'}
          </dd>
          <dt>Send attempts</dt>
          <dd>{d.sendAttempts}</dd>
          {d.smtpReply ? (
            <>
              <dt>Mail server's reply</dt>
              <dd class="reply" data-testid="smtp-reply">
                {d.smtpReply}
              </dd>
            </>
          ) : null}
          {d.failureReason ? (
            <>
              <dt>Why it failed</dt>
              <dd>{d.failureReason}</dd>
            </>
          ) : null}
          <dt>Offered</dt>
          <dd>{stamp(d.offeredAt)}</dd>
          <dt>Accepted</dt>
          <dd>{stamp(d.acceptedAt)}</dd>
          <dt>Active since</dt>
          <dd>{stamp(d.activatedAt)}</dd>
          <dt>Ends</dt>
          <dd>{stamp(d.endsAt)}</dd>
          <dt>Ended</dt>
          <dd>{stamp(d.endedAt)}</dd>
        </dl>
        {props.mayRetry && d.state === 'failed' && d.campaignId && d.acceptedAt === null ? (
          <div class="actions">
            <RetryRecipientForm
              campaignId={d.campaignId}
              delegationId={d.id}
              csrf={props.csrf}
              next={`/dashboard/delegations/${d.id}`}
              label="Retry sending the offer"
            />
          </div>
        ) : null}
      </section>
      <section class="card" data-live="timeline">
        <h2>Timeline</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">What</th>
              <th scope="col">State</th>
              <th scope="col">By</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            <tr>
              <td class="date">{stamp(d.createdAt)}</td>
              <td>Created</td>
              <td>
                <StatePill state="invited" />
              </td>
              <td />
              <td />
            </tr>
            {d.events.map((e) => (
              <tr>
                <td class="date">{stamp(e.at)}</td>
                <td>{eventWords[e.event] ?? e.event}</td>
                <td>
                  {e.fromState ? <StatePill state={e.fromState} /> : null} → <StatePill state={e.toState} />
                </td>
                <td>{e.actor.type.replace('_', ' ')}</td>
                <td class="reply">{e.detail ? JSON.stringify(e.detail) : ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {props.operations !== null ? (
        <section class="card" data-live="operations">
          <h2>Operations in this client's organization</h2>
          {props.operations.length === 0 ? (
            <p class="muted">None yet.</p>
          ) : (
            <OperationsTable operations={props.operations} csrf={props.csrf} next={`/dashboard/delegations/${d.id}`} />
          )}
        </section>
      ) : seesClientOrganizations(props.principal) ? null : (
        <p class="muted">Your staff access does not include client organizations, so their operations are not shown.</p>
      )}
    </DashboardLayout>
  );
}
