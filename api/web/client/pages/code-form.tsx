/**
 * The form for a code from the authenticator app or a recovery code, when a second factor
 * is asked for: at the second step of signing in (second-factor-page.tsx) and before a
 * sensitive change (confirm-page.tsx). With a passkey offered above it, the passkey is the
 * first choice: this form's button is then secondary and its field not focused.
 */
export function CodeForm(props: {
  action: string;
  csrf: string;
  next: string;
  /** Which second factors the user holds: without the app, only a recovery code is asked for. */
  factors: { totp: boolean; passkeys: number };
  button: string;
}) {
  const { totp, passkeys } = props.factors;
  return (
    <form method="post" action={props.action}>
      <input type="hidden" name="csrf" value={props.csrf} />
      <input type="hidden" name="next" value={props.next} />
      <label for="code">{totp ? 'Code from your app, or a recovery code' : 'A recovery code'}</label>
      <input
        id="code"
        type="text"
        name="code"
        autocomplete="one-time-code"
        autocapitalize="off"
        spellcheck={false}
        required
        maxlength={40}
        autofocus={passkeys === 0}
      />
      <button type="submit" class={passkeys > 0 ? 'secondary' : undefined}>
        {props.button}
      </button>
    </form>
  );
}
