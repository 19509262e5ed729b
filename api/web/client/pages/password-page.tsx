import { Layout } from '../../shared/layout.tsx';

/** The password form: forced after a temporary password (no current one asked), or by choice. */
export function PasswordPage(props: { csrf: string; next: string; forced: boolean; error?: string | undefined }) {
  return (
    <Layout title="Choose a new password">
      <h1>Choose a new password</h1>
      {props.forced ? (
        <p class="notice">You signed in with a temporary password. Choose your own to continue.</p>
      ) : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/account/password">
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        {props.forced ? null : (
          <>
            <label for="current">Current password</label>
            <input id="current" type="password" name="current" autocomplete="current-password" required />
          </>
        )}
        <label for="password">New password (at least 12 characters)</label>
        <input id="password" type="password" name="password" autocomplete="new-password" required minlength={12} />
        <label for="repeat">The same again</label>
        <input id="repeat" type="password" name="repeat" autocomplete="new-password" required minlength={12} />
        <button type="submit">Save the password</button>
      </form>
    </Layout>
  );
}
