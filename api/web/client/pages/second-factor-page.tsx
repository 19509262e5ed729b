import { Layout } from '../../shared/layout.tsx';

/** The second step of signing in: the code from the authenticator app, or a recovery code. */
export function SecondFactorPage(props: { csrf: string; next: string; error?: string | undefined }) {
  return (
    <Layout title="Two-factor sign-in">
      <h1>Enter your code</h1>
      <p class="muted">
        Your password was right. Two-factor sign-in is on for this account: open your authenticator app and enter the
        6-digit code it shows for Mandate. Lost your phone? Enter one of your recovery codes instead — each works once.
      </p>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/sign-in/two-factor">
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
        <button type="submit">Continue</button>
      </form>
      <form method="post" action="/sign-out">
        <input type="hidden" name="csrf" value={props.csrf} />
        <button type="submit" class="secondary">
          Cancel
        </button>
      </form>
    </Layout>
  );
}
