import { MAX_DURATION_DAYS } from '../../../../core/offer-rules.ts';
import { type Capability, passwordResetCapability } from '../../../../core/permissions.ts';
import { roleCatalogue, roles } from '../../../../core/roles.ts';
import type { DelegationView } from '../../../../services/delegations/delegations.ts';
import { utcSecond } from '../../shared/format.ts';
import { SUBMISSION_FIELD } from '../submit-once.ts';
import { StatePill } from './layout.tsx';

export interface ClientUserRow {
  id: string;
  email: string;
  displayName: string;
  isGlobalAdmin: boolean;
  mustChangePassword: boolean;
}

export interface ClientDomainRow {
  name: string;
  state: string;
  verification: { name: string; value: string };
  lastCheckedAt: string | null;
  lastFound: string | null;
}

export interface ClientWorkProps {
  delegation: DelegationView;
  /** What the viewer may do in the organization now: the grant ∩ their staff access. */
  may: ReadonlySet<Capability>;
  /** Null when the viewer may not list them. */
  users: ClientUserRow[] | null;
  domains: ClientDomainRow[] | null;
  csrf: string;
  /** A fresh submission key per form (api/web/dashboard/submit-once.ts). */
  submission: () => string;
  /** The page to come back to. */
  next: string;
}

/** The hidden fields every form of the card carries. */
function FormFields(props: { csrf: string; submission?: string; next: string }) {
  return (
    <>
      <input type="hidden" name="csrf" value={props.csrf} />
      <input type="hidden" name="next" value={props.next} />
      {props.submission ? <input type="hidden" name={SUBMISSION_FIELD} value={props.submission} /> : null}
    </>
  );
}

/**
 * The work an operator does in a client's organization, through its active delegation:
 * its users (add one, reset a password) and domains (add one, verify it). Each form is
 * shown only when the viewer's permission allows it — the same decision the API makes
 * (core/permissions.ts) — and says what the client did not grant otherwise.
 */
export function ClientWork(props: ClientWorkProps) {
  const d = props.delegation;
  const base = `/dashboard/delegations/${d.id}`;
  if (d.state !== 'active') {
    return (
      <section class="card">
        <h2>Work in this organization</h2>
        <p class="muted">
          Nothing can be done in this organization through this delegation: it is <StatePill state={d.state} />.
        </p>
      </section>
    );
  }
  return (
    <>
      {/* Only the lists refresh live: a form being filled in is never swapped under its user. */}
      <section class="card">
        <h2>Users</h2>
        <div data-live="users">
          {props.users === null ? (
            <p class="muted">Listing users needs a role this delegation or your staff access does not include.</p>
          ) : props.users.length === 0 ? (
            <p class="muted">No users yet.</p>
          ) : (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Address</th>
                    <th scope="col">Admin</th>
                    <th scope="col">
                      <span class="muted">Action</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {props.users.map((u) => (
                    <tr data-user={u.email}>
                      <td>{u.displayName}</td>
                      <td>
                        {u.email}
                        {u.mustChangePassword ? <div class="muted">must change the temporary password</div> : null}
                      </td>
                      <td>{u.isGlobalAdmin ? 'global admin' : ''}</td>
                      <td>
                        {props.may.has(passwordResetCapability(u.isGlobalAdmin)) ? (
                          <form method="post" action={`${base}/users/${u.id}/password-reset`} class="inline">
                            <FormFields csrf={props.csrf} submission={props.submission()} next={props.next} />
                            <button type="submit" class="secondary" aria-label={`Reset the password of ${u.email}`}>
                              Reset password
                            </button>
                          </form>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
        {props.may.has('provision_user') ? (
          <form method="post" action={`${base}/users`} class="stack" aria-label="Add a user">
            <FormFields csrf={props.csrf} submission={props.submission()} next={props.next} />
            <h3>Add a user</h3>
            <label>
              Name
              <input name="displayName" required maxlength={200} autocomplete="off" />
            </label>
            <label>
              User name or address
              <input name="userName" required maxlength={254} autocomplete="off" placeholder="jordan" />
            </label>
            <label>
              Send the temporary password to <span class="muted">(optional; else to you)</span>
              <input name="notifyEmail" type="email" maxlength={254} autocomplete="off" />
            </label>
            <button type="submit">Add user</button>
          </form>
        ) : (
          <p class="muted">Adding users needs user_admin, granted by the client and held by you.</p>
        )}
      </section>
      <section class="card">
        <h2>Domains</h2>
        <div data-live="domains">
          {props.domains === null ? (
            <p class="muted">Listing domains needs a role this delegation or your staff access does not include.</p>
          ) : props.domains.length === 0 ? (
            <p class="muted">No domains added yet.</p>
          ) : (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Domain</th>
                    <th scope="col">State</th>
                    <th scope="col">TXT record to publish</th>
                    <th scope="col">Last checked</th>
                    <th scope="col">
                      <span class="muted">Action</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {props.domains.map((m) => (
                    <tr data-domain={m.name}>
                      <td>{m.name}</td>
                      <td>
                        <StatePill state={m.state} />
                      </td>
                      <td class="reply">
                        {m.state === 'verified' ? '' : `${m.verification.name} TXT "${m.verification.value}"`}
                      </td>
                      <td class="date">{utcSecond(m.lastCheckedAt)}</td>
                      <td>
                        {m.state !== 'verified' && props.may.has('verify_domain') ? (
                          <form
                            method="post"
                            action={`${base}/domains/${encodeURIComponent(m.name)}/verify`}
                            class="inline"
                          >
                            <FormFields csrf={props.csrf} submission={props.submission()} next={props.next} />
                            <button type="submit" class="secondary" aria-label={`Verify ${m.name}`}>
                              Verify
                            </button>
                          </form>
                        ) : null}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
        {props.may.has('add_domain') ? (
          <form method="post" action={`${base}/domains`} class="stack" aria-label="Add a domain">
            <FormFields csrf={props.csrf} submission={props.submission()} next={props.next} />
            <h3>Add a domain</h3>
            <label>
              Domain name
              <input name="name" required maxlength={253} autocomplete="off" placeholder="example.com" />
            </label>
            <button type="submit">Add domain</button>
          </form>
        ) : (
          <p class="muted">Adding domains needs domain_admin, granted by the client and held by you.</p>
        )}
      </section>
    </>
  );
}

/** Ending a delegation: a button that asks first (a second page without JavaScript). */
export function EndDelegationForm(props: { delegationId: string; next: string }) {
  return (
    <form method="get" action={`/dashboard/delegations/${props.delegationId}/end`} class="inline">
      <input type="hidden" name="next" value={props.next} />
      <button type="submit" class="danger">
        End this delegation…
      </button>
    </form>
  );
}

/**
 * Changing an active delegation (owners and full-access staff): roles to give up and an
 * auto-extend turned off apply at once; roles asked for, days added and auto-extend turned
 * on wait for the client's global admin (the consent rule), who is emailed a link.
 */
export function AmendDelegationForm(props: {
  delegation: DelegationView;
  csrf: string;
  submission: string;
  next: string;
}) {
  const d = props.delegation;
  const held = new Set<string>(d.roles);
  return (
    <form
      method="post"
      action={`/dashboard/delegations/${d.id}/amendments`}
      class="stack"
      aria-label="Change this delegation"
    >
      <FormFields csrf={props.csrf} submission={props.submission} next={props.next} />
      <h3>Change this delegation</h3>
      <p class="muted">
        Giving something up applies at once. Asking for more — a role, more days, automatic renewal — applies only when
        the client's global admin accepts.
      </p>
      <fieldset>
        <legend>Roles</legend>
        {roles.map((role) => (
          <label class="check">
            <input type="checkbox" name={held.has(role) ? `remove.${role}` : `add.${role}`} />
            {held.has(role) ? `Give up ${roleCatalogue[role].label}` : `Ask for ${roleCatalogue[role].label}`}
          </label>
        ))}
      </fieldset>
      <label>
        Days to add to the end <span class="muted">(asked of the client)</span>
        <input name="extendDays" type="number" min={1} max={MAX_DURATION_DAYS} />
      </label>
      <label>
        Automatic renewal
        <select name="autoExtend">
          <option value="">unchanged ({d.autoExtend ? 'on' : 'off'})</option>
          {d.autoExtend ? <option value="off">turn off (at once)</option> : <option value="on">ask to turn on</option>}
        </select>
      </label>
      <button type="submit">Change</button>
    </form>
  );
}
