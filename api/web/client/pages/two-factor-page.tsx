import { formatRecoveryCode, RECOVERY_CODE_COUNT } from '../../../../core/second-factor.ts';
import type { TwoFactorStatus } from '../../../../services/accounts/two-factor.ts';
import { utcMinute } from '../../shared/format.ts';
import { Layout } from '../../shared/layout.tsx';
import { QrCode } from '../../shared/qr-code.tsx';

/** A base32 secret in groups of four, easier to type: `ABCD EFGH …`. */
const grouped = (secret: string) => secret.match(/.{1,4}/g)?.join(' ') ?? secret;

function Problem(props: { error?: string | undefined }) {
  return props.error ? (
    <p class="error" role="alert">
      {props.error}
    </p>
  ) : null;
}

/**
 * Two-factor sign-in on one's account: whether it is on; when off, the button that starts
 * an enrolment; while enrolling, the QR code with the secret beside it and the first-code
 * form; when on, the form that turns it off with a fresh code.
 */
export function TwoFactorPage(props: {
  csrf: string;
  status: TwoFactorStatus;
  home: string;
  /** The organization requires it and the user has none yet: nothing else opens until it is set up. */
  required?: boolean;
  /** The sign-in was not just now: starting asks for the password again. */
  askPassword?: boolean;
  error?: string | undefined;
  notice?: string | undefined;
}) {
  const { status } = props;
  return (
    <Layout title="Two-factor sign-in">
      <h1>Two-factor sign-in</h1>
      {props.required ? (
        <p class="notice" data-testid="two-factor-required">
          Your organization requires two-factor sign-in. Set it up here to go on: until then, nothing else opens.
        </p>
      ) : null}
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      {status.enabled ? (
        <>
          <p class="ok" data-testid="two-factor-status">
            Two-factor sign-in is on (since {utcMinute(status.since)} UTC). Signing in asks for a code from your
            authenticator app after your password.
          </p>
          <p>
            Recovery codes left: <strong data-testid="recovery-codes-left">{status.recoveryCodesLeft}</strong> of{' '}
            {RECOVERY_CODE_COUNT}. Each works once, instead of a code, if you lose your phone.
          </p>
          <h2>Turn it off</h2>
          <Problem error={props.error} />
          <form method="post" action="/account/two-factor/disable">
            <input type="hidden" name="csrf" value={props.csrf} />
            <label for="code">Code from your app, or a recovery code</label>
            <input id="code" type="text" name="code" autocomplete="one-time-code" required maxlength={40} />
            <button type="submit" class="danger">
              Turn off two-factor sign-in
            </button>
          </form>
        </>
      ) : status.pending ? (
        <>
          <p class="notice" data-testid="two-factor-status">
            Two-factor sign-in is not on yet: add Mandate to your authenticator app, then enter the code it shows.
          </p>
          <h2>1. Add Mandate to your authenticator app</h2>
          <div style="display:flex;gap:2rem;flex-wrap:wrap;align-items:center">
            <QrCode text={status.pending.uri} label="QR code for your authenticator app" />
            <div>
              <p>Scan the QR code with the app, or type this key into it (time-based, 6 digits):</p>
              <p>
                <code data-testid="totp-secret" style="font-size:1.2rem;letter-spacing:.05em">
                  {grouped(status.pending.secret)}
                </code>
              </p>
            </div>
          </div>
          <h2>2. Enter the code the app shows</h2>
          <Problem error={props.error} />
          <form method="post" action="/account/two-factor/confirm">
            <input type="hidden" name="csrf" value={props.csrf} />
            <label for="code">6-digit code</label>
            <input
              id="code"
              type="text"
              name="code"
              inputmode="numeric"
              autocomplete="one-time-code"
              required
              maxlength={10}
            />
            <button type="submit">Turn on two-factor sign-in</button>
          </form>
          <form method="post" action="/account/two-factor/start">
            <input type="hidden" name="csrf" value={props.csrf} />
            <PasswordAgain ask={props.askPassword} />
            <button type="submit" class="secondary">
              Start again with a new key
            </button>
          </form>
        </>
      ) : (
        <>
          {status.passkeys > 0 ? (
            <p class="notice" data-testid="two-factor-status">
              No authenticator app is set up. Your passkeys are your second factor: signing in with your password asks
              for one.
            </p>
          ) : (
            <p class="notice" data-testid="two-factor-status">
              Two-factor sign-in is off: your password alone signs you in.
            </p>
          )}
          <Problem error={props.error} />
          <p>
            With it on, signing in also asks for a 6-digit code from an authenticator app on your phone (any app that
            takes time-based codes). You also get {RECOVERY_CODE_COUNT} one-time recovery codes for when the phone is
            lost.
          </p>
          <form method="post" action="/account/two-factor/start">
            <input type="hidden" name="csrf" value={props.csrf} />
            <PasswordAgain ask={props.askPassword} />
            <button type="submit">Set up two-factor sign-in</button>
          </form>
        </>
      )}
      <h2>Passkeys</h2>
      <p>
        A passkey is another second factor, and signs you in alone: <a href="/account/passkeys">Passkeys</a>
      </p>
      <p>
        <a href="/account">Your account</a> · <a href={props.home}>Back</a>
      </p>
    </Layout>
  );
}

/**
 * The recovery codes, shown this once right after a first second factor is added: an
 * authenticator app (the default words) or a passkey.
 */
export function RecoveryCodesPage(props: { codes: string[]; heading?: string; message?: string; back?: string }) {
  return (
    <Layout title="Your recovery codes">
      <h1>{props.heading ?? 'Two-factor sign-in is on'}</h1>
      <p class="ok">
        {props.message ?? 'From now on, signing in asks for a code from your authenticator app after your password.'}
      </p>
      <h2>Your recovery codes</h2>
      <p class="notice">
        Save these {props.codes.length} codes somewhere safe now (a password manager, or printed): this is the only time
        they are shown. Each one signs you in once instead of a code from your phone or a passkey.
      </p>
      <ul data-testid="recovery-codes" style="font-family:ui-monospace,monospace;font-size:1.1rem;columns:2">
        {props.codes.map((code) => (
          <li>{formatRecoveryCode(code)}</li>
        ))}
      </ul>
      <p>
        <a href={props.back ?? '/account/two-factor'}>I have saved them</a>
      </p>
    </Layout>
  );
}

/** The current password, asked for again when the sign-in was not just now. */
function PasswordAgain(props: { ask?: boolean | undefined }) {
  return props.ask ? (
    <>
      <label for="current">Your current password</label>
      <input id="current" type="password" name="current" autocomplete="current-password" required maxlength={1000} />
    </>
  ) : null;
}
