import type { AuditEntry } from '../../../../services/audit/trail.ts';
import type { ClientOrganization, SearchHit } from '../../../../services/dashboard/clients.ts';
import type { OperationDescribed } from '../../../../services/operations/views.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { AuditTable } from '../../shared/audit-trail.tsx';
import { utcSecond } from '../../shared/format.ts';
import { ClientWork, type ClientWorkProps, EndDelegationForm } from './client-work.tsx';
import { DashboardLayout, StatePill } from './layout.tsx';
import { OperationsTable } from './operations.tsx';

/** A delegation's terms in a few words: "limited (user_admin, domain_admin) for 30 days". */
export const termsInWords = (d: ClientOrganization['delegations'][number]) =>
  `${d.access ?? 'custom'} (${d.roles.join(', ') || 'no roles'}) for ${d.durationDays} days${d.autoExtend ? ', renews automatically' : ''}`;

/**
 * One client organization: the partner's delegations with it, the work that can be done
 * in it now, what was done (operations, in words) and, for owners, its audit trail.
 */
export function ClientPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  client: ClientOrganization;
  work: Omit<ClientWorkProps, 'csrf' | 'next'> | null;
  mayEnd: boolean;
  operations: OperationDescribed[] | null;
  audit: AuditEntry[] | null;
  notice?: string | undefined;
}) {
  const { client } = props;
  const here = `/dashboard/clients/${client.id}`;
  const current = client.current;
  return (
    <DashboardLayout
      title={client.name}
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/delegations"
      live
    >
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      <section class="card" data-live="delegations">
        <h2>Delegations with this client</h2>
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th scope="col">State</th>
                <th scope="col">Access</th>
                <th scope="col">Admin who accepted</th>
                <th scope="col">Ends</th>
                <th scope="col">
                  <span class="muted">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {client.delegations.map((d) => (
                <tr data-delegation={d.id}>
                  <td>
                    <StatePill state={d.state} />
                  </td>
                  <td>{termsInWords(d)}</td>
                  <td>{[d.recipient.name, d.recipient.email].filter(Boolean).join(' · ') || '—'}</td>
                  <td class="date">{utcSecond(d.endedAt ?? d.endsAt)}</td>
                  <td>
                    <a href={`/dashboard/delegations/${d.id}`}>Timeline</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {props.mayEnd && current?.state === 'active' ? (
          <div class="actions">
            <EndDelegationForm delegationId={current.id} next={here} />
          </div>
        ) : null}
      </section>
      {props.work ? <ClientWork {...props.work} csrf={props.csrf} next={here} /> : null}
      {props.operations !== null ? (
        <section class="card" data-live="operations">
          <h2>Operations</h2>
          {props.operations.length === 0 ? (
            <p class="muted">None yet.</p>
          ) : (
            <OperationsTable operations={props.operations} csrf={props.csrf} next={here} withoutClient />
          )}
        </section>
      ) : (
        <p class="muted">Your staff access does not include client organizations, so their operations are not shown.</p>
      )}
      {props.audit !== null ? (
        <section class="card">
          <h2>Audit trail</h2>
          {props.audit.length === 0 ? (
            <p class="muted">Nothing recorded yet.</p>
          ) : (
            <AuditTable entries={props.audit} show="partner" />
          )}
          <p>
            <a href={`/dashboard/audit?clientOrgId=${encodeURIComponent(client.id)}`}>
              The whole trail for this client
            </a>
          </p>
        </section>
      ) : null}
    </DashboardLayout>
  );
}

/** Asks before ending a delegation: what ending means, and a button that does it. */
export function EndDelegationPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  delegationId: string;
  clientName: string;
  next: string;
}) {
  return (
    <DashboardLayout
      title={`End the delegation with ${props.clientName}?`}
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/delegations"
    >
      <section class="card">
        <p>
          Your staff lose all access to {props.clientName} at once: operations still queued there are rejected. The
          client's admin is told by email. Only the client can give access again, by accepting a new offer.
        </p>
        <div class="actions">
          <form method="post" action={`/dashboard/delegations/${props.delegationId}/end`} class="inline">
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="next" value={props.next} />
            <button type="submit" class="danger">
              End the delegation
            </button>
          </form>
          <a href={props.next}>Keep it</a>
        </div>
      </section>
    </DashboardLayout>
  );
}

/** What a search found: clients, recipients, operations. */
export function SearchPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  text: string;
  hits: SearchHit[] | null;
}) {
  const groups: { kind: SearchHit['kind']; title: string }[] = [
    { kind: 'client', title: 'Clients' },
    { kind: 'recipient', title: 'Offer recipients' },
    { kind: 'operation', title: 'Operations' },
  ];
  return (
    <DashboardLayout title="Search" principal={props.principal} csrf={props.csrf} section="/dashboard/search">
      <section class="card">
        <form method="get" action="/dashboard/search" class="filters">
          <label>
            Client email, company, organization or domain
            <input name="q" type="search" value={props.text} required minlength={2} maxlength={200} autofocus />
          </label>
          <button type="submit">Search</button>
        </form>
      </section>
      {props.hits === null ? null : props.hits.length === 0 ? (
        <section class="card">
          <p class="muted">Nothing found for “{props.text}”.</p>
        </section>
      ) : (
        groups.map((g) => {
          const hits = props.hits?.filter((h) => h.kind === g.kind) ?? [];
          return hits.length === 0 ? null : (
            <section class="card" data-hits={g.kind}>
              <h2>{g.title}</h2>
              <ul class="hits">
                {hits.map((h) => (
                  <li>
                    <a href={h.href}>{h.title}</a> <StatePill state={h.state} /> <span class="muted">{h.detail}</span>
                  </li>
                ))}
              </ul>
            </section>
          );
        })
      )}
    </DashboardLayout>
  );
}
