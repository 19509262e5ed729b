import { Layout } from '../../shared/layout.tsx';
import { PasskeyForm } from '../../shared/passkey-form.tsx';
import { passkeyScriptPaths } from '../../shared/passkey-script.ts';

export function SignInPage(props: {
  csrf: string;
  next: string;
  error?: string | undefined;
  email?: string;
  /** A refusal of single sign-on: shown by its own form. */
  ssoError?: string | undefined;
  ssoEmail?: string;
  /** A fresh instance: nobody can sign in until a partner is created on the server. */
  noPartnerYet?: boolean;
}) {
  return (
    <Layout title="Sign in" scripts={passkeyScriptPaths}>
      <h1>Sign in</h1>
      <p class="muted">
        For partner staff (the dashboard) and for client administrators (your organization's delegations).
      </p>
      {props.noPartnerYet ? (
        <div class="notice" role="note">
          <p>
            <strong>No partner yet.</strong> Nobody can sign in until the first partner is created, on the machine
            running Mandate:
          </p>
          <pre>npm run mandate -- partner create --name "Northwind Services" --owner-email you@northwind.example</pre>
          <p class="muted">It prints the owner's password once: sign in with it here.</p>
        </div>
      ) : null}
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/sign-in">
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <label for="email">Email</label>
        <input id="email" type="email" name="email" autocomplete="username" required value={props.email ?? ''} />
        <label for="password">Password</label>
        <input id="password" type="password" name="password" autocomplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>
      <h2>Or with a passkey</h2>
      <p class="muted">No email or password: your device's screen lock or your security key signs you in.</p>
      <PasskeyForm
        ceremony="authenticate"
        action="/sign-in/passkey"
        options="/sign-in/passkey/options"
        csrf={props.csrf}
        next={props.next}
        button="Sign in with a passkey"
        secondary
      />
      <h2>Single sign-on</h2>
      <p class="muted">
        Partner staff whose organization set it up: continue at your organization's identity provider.
      </p>
      {props.ssoError ? (
        <p class="error" role="alert">
          {props.ssoError}
        </p>
      ) : null}
      <form method="post" action="/sign-in/sso">
        <input type="hidden" name="csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <label for="sso-address">Work address</label>
        <input
          id="sso-address"
          type="email"
          name="email"
          autocomplete="username"
          required
          value={props.ssoEmail ?? ''}
        />
        <button type="submit" class="secondary">
          Continue with single sign-on
        </button>
      </form>
    </Layout>
  );
}
