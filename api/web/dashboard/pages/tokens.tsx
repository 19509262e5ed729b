import { DEFAULT_TOKEN_DAYS, MAX_TOKEN_DAYS, type TokenScope, tokenScopeWords } from '../../../../core/token-scopes.ts';
import type { ApiTokenView } from '../../../../services/accounts/api-tokens.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { utcMinute } from '../../shared/format.ts';
import { DashboardLayout } from './layout.tsx';

/** The signed-in staff member's own API tokens: list, create (shown once), revoke. */
export function TokensPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  tokens: ApiTokenView[];
  /** Owners only: the other staff members' tokens. */
  staffTokens?: ApiTokenView[] | undefined;
  /** The scopes the holder's access allows: the form offers these, all ticked. */
  allowedScopes: TokenScope[];
  created?: { name: string; token: string; expiresAt: string } | undefined;
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
          <h2>{`New token “${props.created.name}”`}</h2>
          <p>Copy it now: it is not shown again and not stored. Send it as `Authorization: Bearer …`.</p>
          <p>{`It expires on ${utcMinute(props.created.expiresAt)} UTC.`}</p>
          <p>
            <code>{props.created.token}</code>
          </p>
        </section>
      ) : null}
      <section class="card">
        <h2>Your API tokens</h2>
        <p class="muted">
          Each token acts as you in the partner API, with your access of the moment and no more than its scopes. Revoke
          one you no longer use.
        </p>
        {props.tokens.length === 0 ? (
          <p class="muted">You have no API token.</p>
        ) : (
          <TokenTable tokens={props.tokens} csrf={props.csrf} />
        )}
      </section>
      {props.staffTokens ? (
        <section class="card">
          <h2>API tokens of your staff</h2>
          <p class="muted">As an owner you see every token of the partner (never its secret) and may revoke any.</p>
          {props.staffTokens.length === 0 ? (
            <p class="muted">No one else on your staff has an API token.</p>
          ) : (
            <TokenTable tokens={props.staffTokens} csrf={props.csrf} showHolder />
          )}
        </section>
      ) : null}
      <section class="card">
        <h2>Create a token</h2>
        <form method="post" action="/dashboard/tokens" class="filters">
          <input type="hidden" name="csrf" value={props.csrf} />
          <label>
            Label (what it is for)
            <input type="text" name="label" required maxlength={100} />
          </label>
          <label>
            {`Expires after (days, 1–${MAX_TOKEN_DAYS})`}
            <input
              type="number"
              name="expiresInDays"
              min={1}
              max={MAX_TOKEN_DAYS}
              value={String(DEFAULT_TOKEN_DAYS)}
              required
            />
          </label>
          <fieldset class="choices">
            <legend>Scopes (what it may do)</legend>
            {props.allowedScopes.map((scope) => (
              <label>
                <input type="checkbox" name={`scope:${scope}`} value="on" checked />
                {` ${scope} — ${tokenScopeWords[scope]}`}
              </label>
            ))}
          </fieldset>
          <button type="submit">Create</button>
        </form>
      </section>
    </DashboardLayout>
  );
}

/** Tokens with their scopes, dates and a revoke button each; `showHolder` adds whose each is. */
function TokenTable(props: { tokens: ApiTokenView[]; csrf: string; showHolder?: boolean }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">Label</th>
          {props.showHolder ? <th scope="col">Holder</th> : null}
          <th scope="col">Scopes</th>
          <th scope="col">Created</th>
          <th scope="col">Expires</th>
          <th scope="col">Last used</th>
          <th scope="col">
            <span class="muted">Revoke</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {props.tokens.map((t) => (
          <tr>
            <td>{t.name}</td>
            {props.showHolder ? <td>{t.holder.email}</td> : null}
            <td>{t.scopes.join(', ')}</td>
            <td class="date">{utcMinute(t.createdAt)}</td>
            <td class="date">{t.expired ? `expired ${utcMinute(t.expiresAt)}` : utcMinute(t.expiresAt)}</td>
            <td class="date">{t.lastUsedAt ? utcMinute(t.lastUsedAt) : 'never'}</td>
            <td>
              <form method="post" action={`/dashboard/tokens/${t.id}/revoke`} class="inline">
                <input type="hidden" name="csrf" value={props.csrf} />
                <button type="submit" class="secondary" aria-label={`Revoke the token ${t.name}`}>
                  Revoke
                </button>
              </form>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
