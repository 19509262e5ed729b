import { PASSKEY_NAME_CHARS } from '../../../../core/passkeys.ts';
import { RECOVERY_CODE_COUNT } from '../../../../core/second-factor.ts';
import type { PasskeyView } from '../../../../services/accounts/passkeys.ts';
import { utcMinute } from '../../shared/format.ts';
import { Layout } from '../../shared/layout.tsx';
import { PasskeyForm } from '../../shared/passkey-form.tsx';
import { passkeyScriptPaths } from '../../shared/passkey-script.ts';

/** What the page says after a change it was asked for (`?done=`); anything else says nothing. */
export const passkeyNotices = {
  added:
    'Passkey added. You can sign in with it instead of your password and code; your other sessions were signed out.',
  removed: 'Passkey removed. It no longer signs you in; your other sessions were signed out.',
  gone: 'That passkey had already been removed.',
} as const;

export type PasskeyNotice = keyof typeof passkeyNotices;

/**
 * One's passkeys: each with its name, when it was added and last used, and a remove
 * button; the form that adds one (a name, then the browser's passkey prompt).
 */
export function PasskeysPage(props: {
  csrf: string;
  passkeys: PasskeyView[];
  recoveryCodesLeft: number;
  home: string;
  notice?: string | undefined;
  error?: string | undefined;
  /** What adding a passkey needs (api/web/client/two-factor-routes.tsx addFactorGate). */
  gate: 'open' | 'password' | 'step_up';
}) {
  return (
    <Layout title="Passkeys" scripts={passkeyScriptPaths}>
      <h1>Passkeys</h1>
      {props.notice ? (
        <p class="ok" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <p class="muted">
        A passkey signs you in with your device's screen lock (a fingerprint, face or PIN) or a security key, instead of
        your password and code. It also counts as a second factor: with one, signing in with your password asks for it
        next. Adding or removing a passkey signs you out everywhere else.
      </p>
      {props.passkeys.length === 0 ? (
        <p class="notice" data-testid="passkeys-status">
          You have no passkeys yet.
        </p>
      ) : (
        <table data-testid="passkeys">
          <thead>
            <tr>
              <th>Name</th>
              <th>Added (UTC)</th>
              <th>Last used (UTC)</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {props.passkeys.map((p) => (
              <tr>
                <td>{p.name}</td>
                <td class="date">{utcMinute(p.createdAt)}</td>
                <td class="date">{p.lastUsedAt ? utcMinute(p.lastUsedAt) : 'never'}</td>
                <td>
                  <form method="post" action={`/account/passkeys/${p.id}/remove`} style="margin:0">
                    <input type="hidden" name="csrf" value={props.csrf} />
                    <button type="submit" class="danger" aria-label={`Remove ${p.name}`} style="margin:0">
                      Remove
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.recoveryCodesLeft > 0 ? (
        <p>
          Recovery codes left: <strong data-testid="recovery-codes-left">{props.recoveryCodesLeft}</strong> of{' '}
          {RECOVERY_CODE_COUNT}. Each works once, instead of a passkey or a code, if you lose your devices.
        </p>
      ) : null}
      <h2>Add a passkey</h2>
      {props.gate === 'step_up' ? (
        <p class="notice" data-testid="passkey-step-up">
          Adding a passkey needs your second factor within the last few minutes:{' '}
          <a href="/account/confirm?next=/account/passkeys">confirm it’s you</a>, then add it here.
        </p>
      ) : (
        <PasskeyForm
          ceremony="register"
          action="/account/passkeys"
          options="/account/passkeys/options"
          csrf={props.csrf}
          button="Add a passkey"
        >
          <label for="passkey-name">Name (to tell your passkeys apart)</label>
          <input
            id="passkey-name"
            type="text"
            name="name"
            required
            maxlength={PASSKEY_NAME_CHARS}
            placeholder="Work laptop"
          />
          {props.gate === 'password' ? (
            <>
              <label for="passkey-current">Your current password</label>
              <input
                id="passkey-current"
                type="password"
                name="current"
                autocomplete="current-password"
                required
                maxlength={1000}
              />
            </>
          ) : null}
        </PasskeyForm>
      )}
      <p>
        <a href="/account">Your account</a> · <a href="/account/two-factor">Two-factor sign-in</a> ·{' '}
        <a href={props.home}>Back</a>
      </p>
    </Layout>
  );
}
