import { Layout } from '../../shared/layout.tsx';
import { PasskeyForm } from '../../shared/passkey-form.tsx';
import { passkeyScriptPaths } from '../../shared/passkey-script.ts';
import { CodeForm } from './code-form.tsx';

/**
 * The second step of signing in: the user's passkey, when they have one; the code from
 * the authenticator app, when they have one; a recovery code either way.
 */
export function SecondFactorPage(props: {
  csrf: string;
  next: string;
  /** Which second factors the user holds (a passkey-only user is asked for no app code). */
  factors: { totp: boolean; passkeys: number };
  error?: string | undefined;
}) {
  const { totp, passkeys } = props.factors;
  return (
    <Layout title="Two-factor sign-in" scripts={passkeyScriptPaths}>
      <h1>{passkeys > 0 && !totp ? 'Confirm with your passkey' : 'Enter your code'}</h1>
      <p class="muted">
        Your password was right. Two-factor sign-in is on for this account: {passkeys > 0 ? 'use your passkey' : ''}
        {passkeys > 0 && totp ? ', or ' : ''}
        {totp ? 'open your authenticator app and enter the 6-digit code it shows for Mandate' : ''}. Lost your{' '}
        {totp ? 'phone' : 'device'}? Enter one of your recovery codes instead — each works once.
      </p>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      {passkeys > 0 ? (
        <PasskeyForm
          ceremony="authenticate"
          action="/sign-in/two-factor/passkey"
          options="/sign-in/two-factor/passkey/options"
          csrf={props.csrf}
          next={props.next}
          button="Use your passkey"
        />
      ) : null}
      <CodeForm
        action="/sign-in/two-factor"
        csrf={props.csrf}
        next={props.next}
        factors={props.factors}
        button="Continue"
      />
      <form method="post" action="/sign-out">
        <input type="hidden" name="csrf" value={props.csrf} />
        <button type="submit" class="secondary">
          Cancel
        </button>
      </form>
    </Layout>
  );
}
