import { STEP_UP_MINUTES } from '../../../../core/second-factor.ts';
import { Layout } from '../../shared/layout.tsx';
import { PasskeyForm } from '../../shared/passkey-form.tsx';
import { passkeyScriptPaths } from '../../shared/passkey-script.ts';
import { CodeForm } from './code-form.tsx';

/**
 * "Confirm it's you": a sensitive change needs a second factor passed within the last
 * minutes — the user's passkey, a code from their app, or a recovery code; without any
 * second factor, the way to set one up.
 */
export function ConfirmPage(props: {
  csrf: string;
  next: string;
  factors: { totp: boolean; passkeys: number };
  error?: string | undefined;
}) {
  const { totp, passkeys } = props.factors;
  const any = totp || passkeys > 0;
  return (
    <Layout title="Confirm it’s you" scripts={passkeys > 0 ? passkeyScriptPaths : undefined}>
      <h1>Confirm it’s you</h1>
      {any ? (
        <>
          <p class="muted">
            The change you asked for needs your second factor within the last {STEP_UP_MINUTES} minutes
            {passkeys > 0 ? ': use your passkey' : ''}
            {passkeys > 0 && totp ? ', or enter' : totp ? ': enter' : ', or enter'}{' '}
            {totp
              ? 'the 6-digit code your authenticator app shows for Mandate (or a recovery code)'
              : 'a recovery code'}
            . Then make the change again.
          </p>
          {props.error ? (
            <p class="error" role="alert">
              {props.error}
            </p>
          ) : null}
          {passkeys > 0 ? (
            <PasskeyForm
              ceremony="authenticate"
              action="/account/confirm/passkey"
              options="/account/confirm/passkey/options"
              csrf={props.csrf}
              next={props.next}
              button="Confirm with your passkey"
            />
          ) : null}
          <CodeForm
            action="/account/confirm"
            csrf={props.csrf}
            next={props.next}
            factors={props.factors}
            button="Confirm"
          />
        </>
      ) : (
        <p class="notice" data-testid="step-up-needs-factor">
          The change you asked for needs two-factor sign-in, and it is not set up for your account.{' '}
          <a href="/account/two-factor">Set up two-factor sign-in</a> (or <a href="/account/passkeys">add a passkey</a>
          ), then make the change again.
        </p>
      )}
      <p>
        <a href={props.next}>Back</a>
      </p>
    </Layout>
  );
}
