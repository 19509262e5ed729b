import type { StaffAccessLevel } from '../../../../core/access.ts';
import { describeRoles } from '../../../../core/access.ts';
import type { StaffView } from '../../../../services/accounts/staff.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
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
  created?: { email: string; password: string; token: string } | undefined;
  notice?: string | undefined;
}) {
  return (
    <DashboardLayout title="Staff" principal={props.principal} csrf={props.csrf} section="/dashboard/staff">
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      {props.created ? (
        <section class="card ok">
          <h2>{`${props.created.email} can now sign in`}</h2>
          <p>Give them these once; they are not shown again and not stored.</p>
          <dl class="facts">
            <dt>Password (to change at first sign-in)</dt>
            <dd>
              <code>{props.created.password}</code>
            </dd>
            <dt>API token</dt>
            <dd>
              <code>{props.created.token}</code>
            </dd>
          </dl>
        </section>
      ) : null}
      <section class="card">
        <h2>Access in the clients you support</h2>
        <table>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Access</th>
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
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card">
        <h2>Add a staff member</h2>
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
          <button type="submit">Add</button>
        </form>
      </section>
    </DashboardLayout>
  );
}
