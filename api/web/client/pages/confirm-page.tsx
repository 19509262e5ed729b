import { STEP_UP_MINUTES } from '../../../../core/second-factor.ts';
import { Layout } from '../../shared/layout.tsx';

/**
 * "Confirm it's you": a sensitive change needs a second factor passed within the last
 * minutes. With one set up, a code (or a recovery code); without, the way to set it up.
 */
export function ConfirmPage(props: {
  csrf: string;
  next: string;
  hasSecondFactor: boolean;
  error?: string | undefined;
}) {
  return (
    <Layout title="Confirm it’s you">
      <h1>Confirm it’s you</h1>
      {props.hasSecondFactor ? (
        <>
          <p class="muted">
            The change you asked for needs your second factor within the last {STEP_UP_MINUTES} minutes. Enter the
            6-digit code your authenticator app shows for Mandate (or a recovery code); then make the change again.
          </p>
          {props.error ? (
            <p class="error" role="alert">
              {props.error}
            </p>
          ) : null}
          <form method="post" action="/account/confirm">
            <input type="hidden" name="csrf" value={props.csrf} />
            <input type="hidden" name="next" value={props.next} />
            <label for="code">Code from your app, or a recovery code</label>
            <input
              id="code"
              type="text"
              name="code"
              autocomplete="one-time-code"
              autocapitalize="off"
              spellcheck={false}
              required
              maxlength={40}
              autofocus
            />
            <button type="submit">Confirm</button>
          </form>
        </>
      ) : (
        <p class="notice" data-testid="step-up-needs-factor">
          The change you asked for needs two-factor sign-in, and it is not set up for your account.{' '}
          <a href="/account/two-factor">Set up two-factor sign-in</a>, then make the change again.
        </p>
      )}
      <p>
        <a href={props.next}>Back</a>
      </p>
    </Layout>
  );
}
