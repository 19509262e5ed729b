import type { StaffAccessLevel } from '../../../../core/access.ts';
import { describeRoles } from '../../../../core/access.ts';
import type { StaffView } from '../../../../services/accounts/staff.ts';
import type { InvitationView } from '../../../../services/accounts/staff-invitations.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { utcMinute } from '../../shared/format.ts';
import { DashboardLayout } from './layout.tsx';

const accessWords: Record<StaffAccessLevel, string> = {
  none: 'None — sees no client organization',
  limited: 'Limited — resets passwords of non-admin users',
  full: 'Full — everything a delegation allows',
};

export function StaffPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  staff: StaffView[];
  invitations: InvitationView[];
  notice?: string | undefined;
}) {
  return (
    <DashboardLayout title="Staff" principal={props.principal} csrf={props.csrf} section="/dashboard/staff">
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      <section class="card">
        <h2>Access in the clients you support</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Access</th>
              <th scope="col">
                <span class="muted">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.staff.map((s) => (
              <tr>
                <td>{s.displayName}</td>
                <td>{s.email}</td>
                <td>
                  {s.isOwner ? (
                    'Owner (full)'
                  ) : (
                    <form method="post" action={`/dashboard/staff/${s.userId}/access`} class="inline">
                      <input type="hidden" name="csrf" value={props.csrf} />
                      <label class="muted" for={`access-${s.userId}`} style="display:none">
                        {`Access of ${s.email}`}
                      </label>
                      {s.access === undefined ? <span>{describeRoles(s.roles)} </span> : null}
                      <select id={`access-${s.userId}`} name="access">
                        {(['none', 'limited', 'full'] as const).map((a) => (
                          <option value={a} selected={s.access === a}>
                            {accessWords[a]}
                          </option>
                        ))}
                      </select>{' '}
                      <button type="submit" class="secondary">
                        Save
                      </button>
                    </form>
                  )}
                </td>
                <td>
                  {/* The last owner cannot be removed: the button stays, the refusal says why. */}
                  <form method="post" action={`/dashboard/staff/${s.userId}/remove`} class="inline">
                    <input type="hidden" name="csrf" value={props.csrf} />
                    <button type="submit" class="secondary" aria-label={`Remove ${s.email} from the staff`}>
                      Remove
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        <p class="muted">
          Removing someone ends their sessions and API tokens and their sign-in at once; what they did stays in the
          audit trail, and their address can be invited again.
        </p>
      </section>
      <section class="card">
        <h2>Pending invitations</h2>
        {props.invitations.length === 0 ? (
          <p class="muted">No invitation is waiting for an answer.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Email</th>
                <th scope="col">Name</th>
                <th scope="col">Access</th>
                <th scope="col">Invited</th>
                <th scope="col">Expires</th>
                <th scope="col">
                  <span class="muted">Withdraw</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.invitations.map((i) => (
                <tr>
                  <td>{i.email}</td>
                  <td>{i.displayName}</td>
                  <td>{i.access ? accessWords[i.access] : describeRoles(i.roles)}</td>
                  <td class="date">{utcMinute(i.invitedAt)}</td>
                  <td class="date">{utcMinute(i.expiresAt)}</td>
                  <td>
                    <form method="post" action={`/dashboard/staff/invitations/${i.id}/revoke`} class="inline">
                      <input type="hidden" name="csrf" value={props.csrf} />
                      <button type="submit" class="secondary" aria-label={`Revoke the invitation of ${i.email}`}>
                        Revoke
                      </button>
                    </form>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <section class="card">
        <h2>Invite a staff member</h2>
        <p class="muted">
          They get an email with a link to choose their password and join, valid 7 days. An address that already has a
          Mandate account cannot join (one address, one organization); its owner is told by email. A member you removed
          can be invited again.
        </p>
        <form method="post" action="/dashboard/staff" class="filters">
          <input type="hidden" name="csrf" value={props.csrf} />
          <label>
            Name
            <input type="text" name="displayName" required maxlength={200} />
          </label>
          <label>
            Email
            <input type="email" name="email" required maxlength={320} />
          </label>
          <label>
            Access
            <select name="access">
              {(['none', 'limited', 'full'] as const).map((a) => (
                <option value={a}>{accessWords[a]}</option>
              ))}
            </select>
          </label>
          <button type="submit">Invite</button>
        </form>
      </section>
    </DashboardLayout>
  );
}
