import type { AuditEntry } from '../../../../services/audit/trail.ts';
import type { ClientDelegationRow } from '../../../../services/delegations/client-view.ts';
import { AuditTable } from '../../shared/audit-trail.tsx';
import { utcDay } from '../../shared/format.ts';
import { Layout } from '../../shared/layout.tsx';
import { RoleList } from './role-list.tsx';

const endable = new Set(['accepting', 'active']);

export interface OrgDelegationsPageProps {
  orgName: string;
  email: string;
  csrf: string;
  delegations: ClientDelegationRow[];
  /** The newest events of the organization's trail. */
  audit: AuditEntry[];
  /** Whether there are older ones (on the trail page). */
  more: boolean;
  notice?: string | undefined;
}

/** A client admin's view: who holds delegated admin rights here, and what they did. */
export function OrgDelegationsPage(props: OrgDelegationsPageProps) {
  return (
    <Layout title={`Delegations of ${props.orgName}`}>
      <h1>Delegated administration of {props.orgName}</h1>
      <p class="muted">
        Signed in as {props.email}. <a href="/account">Your account</a> ·{' '}
        <a href="/org/security">Sign-in security of the organization</a>
      </p>
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      <h2>Partners with access</h2>
      {props.delegations.length === 0 ? (
        <p>No partner holds delegated administration of your organization.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Partner</th>
              <th scope="col">Roles granted</th>
              <th scope="col">State</th>
              <th scope="col">Since</th>
              <th scope="col">Until</th>
              <th scope="col">
                <span class="muted">Action</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.delegations.map((d) => (
              <tr data-delegation={d.id}>
                <td>{d.partnerName}</td>
                <td>
                  <RoleList roles={d.roles} />
                </td>
                <td>{d.state}</td>
                <td class="date">{utcDay(d.since)}</td>
                <td class="date">
                  {utcDay(d.until)}
                  {d.autoExtend && d.state === 'active' ? ' (renews)' : ''}
                </td>
                <td>
                  {endable.has(d.state) ? (
                    <form method="post" action={`/org/delegations/${d.id}/end`}>
                      <input type="hidden" name="csrf" value={props.csrf} />
                      <button type="submit" class="danger" aria-label={`End the delegation to ${d.partnerName}`}>
                        End
                      </button>
                    </form>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <h2>What happened here</h2>
      {props.audit.length === 0 ? <p>Nothing yet.</p> : <AuditTable entries={props.audit} show="partner" />}
      <p>
        <a href="/org/audit">{props.more ? 'Everything that happened here' : 'Search and download the trail'}</a> (by
        who, what, outcome and date; as CSV)
      </p>
      <p>
        <a href="/account">Your account</a> (password, two-factor sign-in, where you are signed in)
      </p>
      <form method="post" action="/sign-out">
        <input type="hidden" name="csrf" value={props.csrf} />
        <button type="submit" class="secondary">
          Sign out
        </button>
      </form>
    </Layout>
  );
}
