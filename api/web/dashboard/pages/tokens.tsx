import type { ApiTokenView } from '../../../../services/accounts/api-tokens.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { utcMinute } from '../../shared/format.ts';
import { DashboardLayout } from './layout.tsx';

/** The signed-in staff member's own API tokens: list, create (shown once), revoke. */
export function TokensPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  tokens: ApiTokenView[];
  created?: { label: string; token: string } | undefined;
  notice?: string | undefined;
  error?: string | undefined;
}) {
  return (
    <DashboardLayout title="API tokens" principal={props.principal} csrf={props.csrf} section="/dashboard/tokens">
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      {props.created ? (
        <section class="card ok">
          <h2>{`New token “${props.created.label}”`}</h2>
          <p>Copy it now: it is not shown again and not stored. Send it as `Authorization: Bearer …`.</p>
          <p>
            <code>{props.created.token}</code>
          </p>
        </section>
      ) : null}
      <section class="card">
        <h2>Your API tokens</h2>
        <p class="muted">
          Each token acts as you in the partner API, with your access of the moment. Revoke one you no longer use.
        </p>
        {props.tokens.length === 0 ? (
          <p class="muted">You have no API token.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th scope="col">Label</th>
                <th scope="col">Created</th>
                <th scope="col">
                  <span class="muted">Revoke</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {props.tokens.map((t) => (
                <tr>
                  <td>{t.label}</td>
                  <td class="date">{utcMinute(t.createdAt)}</td>
                  <td>
                    <form method="post" action={`/dashboard/tokens/${t.id}/revoke`} class="inline">
                      <input type="hidden" name="csrf" value={props.csrf} />
                      <button type="submit" class="secondary" aria-label={`Revoke the token ${t.label}`}>
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
        <h2>Create a token</h2>
        <form method="post" action="/dashboard/tokens" class="filters">
          <input type="hidden" name="csrf" value={props.csrf} />
          <label>
            Label (what it is for)
            <input type="text" name="label" required maxlength={100} />
          </label>
          <button type="submit">Create</button>
        </form>
      </section>
    </DashboardLayout>
  );
}
