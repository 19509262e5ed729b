import { AppError } from '../../../core/errors.ts';
import type { MemberFactorView } from '../../../services/accounts/two-factor-policy.ts';

/**
 * The two-factor requirement of an organization, as a form, and who has a second factor:
 * the same on a partner's dashboard and a client's security page (`action` is where it
 * posts; changing it asks for a recent second factor first).
 */
export function TwoFactorPolicyForm(props: {
  action: string;
  csrf: string;
  required: boolean;
  /** Whom it applies to, in the organization's words: "staff", "administrators". */
  people: string;
  members: MemberFactorView[];
}) {
  const without = props.members.filter((m) => !m.hasSecondFactor);
  return (
    <>
      <section class="card">
        <h2>Two-factor sign-in</h2>
        <p data-testid="two-factor-policy">
          {props.required
            ? `Required: all ${props.people} sign in with a second factor. Whoever has none is sent to set one up at their next page and can do nothing else until then.`
            : `Not required: ${props.people} choose for themselves.`}
        </p>
        <form method="post" action={props.action}>
          <input type="hidden" name="csrf" value={props.csrf} />
          <input type="hidden" name="required" value={props.required ? 'off' : 'on'} />
          <button type="submit" class={props.required ? 'danger' : undefined}>
            {props.required
              ? 'Stop requiring two-factor sign-in'
              : `Require two-factor sign-in for all ${props.people}`}
          </button>
        </form>
      </section>
      <section class="card">
        <h2>{`Without a second factor (${without.length} of ${props.members.length})`}</h2>
        {without.length === 0 ? (
          <p class="muted">Everyone has set up two-factor sign-in.</p>
        ) : (
          <ul data-testid="without-second-factor">
            {without.map((m) => (
              <li>{`${m.displayName} <${m.email}>`}</li>
            ))}
          </ul>
        )}
      </section>
    </>
  );
}

/** Reads the form's `required` field: `on` or `off`, nothing else. */
export function requiredField(value: string | undefined): boolean {
  if (value === 'on' || value === 'off') return value === 'on';
  throw new AppError('VALIDATION_FAILED', 'Say whether two-factor sign-in is required: on or off.');
}
