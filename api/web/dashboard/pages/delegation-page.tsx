import type { DelegationEvent } from '../../../../core/delegation-machine.ts';
import { seesClientOrganizations } from '../../../../core/partner-permissions.ts';
import type { DelegationEventView, DelegationView } from '../../../../services/delegations/delegations.ts';
import type { OperationDescribed } from '../../../../services/operations/views.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { detailInWords, utcSecond } from '../../shared/format.ts';
import { newSubmission } from '../submit-once.ts';
import { RetryRecipientForm } from './campaigns.tsx';
import { AmendDelegationForm, ClientWork, type ClientWorkProps, EndDelegationForm } from './client-work.tsx';
import { DashboardLayout, StatePill } from './layout.tsx';
import { OperationsTable } from './operations.tsx';

const eventWords: Record<DelegationEvent, string> = {
  send_succeeded: 'Offer email accepted by the mail server',
  send_failed: 'Offer email failed',
  bounced: 'Offer email bounced (a later mail server refused it)',
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
  amend: 'Amended (terms before and after in the detail)',
};

export function DelegationPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  delegation: DelegationView & { events: DelegationEventView[] };
  /** The work card, for staff who see client organizations. */
  work: Omit<ClientWorkProps, 'csrf' | 'next'> | null;
  mayEnd: boolean;
  operations: OperationDescribed[] | null;
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
          <dt>Client organization</dt>
          <dd>
            {d.clientOrgId ? (
              <a href={`/dashboard/clients/${d.clientOrgId}`}>Its page</a>
            ) : (
              'none until the offer is accepted'
            )}
          </dd>
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
          <dd>{utcSecond(d.offeredAt)}</dd>
          <dt>Accepted</dt>
          <dd>{utcSecond(d.acceptedAt)}</dd>
          <dt>Active since</dt>
          <dd>{utcSecond(d.activatedAt)}</dd>
          <dt>Ends</dt>
          <dd>{utcSecond(d.endsAt)}</dd>
          <dt>Ended</dt>
          <dd>{utcSecond(d.endedAt)}</dd>
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
        {props.mayEnd && d.state === 'active' ? (
          <div class="actions">
            <EndDelegationForm delegationId={d.id} next={`/dashboard/delegations/${d.id}`} />
          </div>
        ) : null}
      </section>
      {/* Outside the live parts: a form being filled in is never swapped under its user. */}
      {props.mayEnd && d.state === 'active' ? (
        <section class="card">
          <AmendDelegationForm
            delegation={d}
            csrf={props.csrf}
            submission={newSubmission()}
            next={`/dashboard/delegations/${d.id}`}
          />
        </section>
      ) : null}
      {props.work && d.state === 'active' ? (
        <ClientWork {...props.work} csrf={props.csrf} next={`/dashboard/delegations/${d.id}`} />
      ) : null}
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
              <td class="date">{utcSecond(d.createdAt)}</td>
              <td>Created</td>
              <td>
                <StatePill state="invited" />
              </td>
              <td />
              <td />
            </tr>
            {d.events.map((e) => (
              <tr>
                <td class="date">{utcSecond(e.at)}</td>
                <td>{eventWords[e.event]}</td>
                <td>
                  {e.fromState ? <StatePill state={e.fromState} /> : null} → <StatePill state={e.toState} />
                </td>
                <td>{e.actor.type.replace('_', ' ')}</td>
                <td class="reply">{detailInWords(e.detail)}</td>
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
