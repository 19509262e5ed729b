import type { Context } from 'hono';
import type { Child } from 'hono/jsx';
import { isAppError } from '../../../core/errors.ts';
import type { AppEnv } from '../../env.ts';
import { clientIp, formFields, verifyCsrf } from './context.ts';

/**
 * A form the passkey script drives (api/web/shared/passkey-script.ts): it asks `options`
 * for WebAuthn options, runs the ceremony, puts the answer in the hidden field and posts
 * the form to `action` as any other.
 */
export function PasskeyForm(props: {
  ceremony: 'register' | 'authenticate';
  action: string;
  options: string;
  csrf: string;
  next?: string | undefined;
  button: string;
  secondary?: boolean;
  children?: Child;
}) {
  return (
    <form method="post" action={props.action} data-passkey={props.ceremony} data-options={props.options}>
      <input type="hidden" name="csrf" value={props.csrf} />
      {props.next === undefined ? null : <input type="hidden" name="next" value={props.next} />}
      <input type="hidden" name="answer" value="" />
      {props.children}
      <button type="submit" class={props.secondary ? 'secondary' : undefined}>
        {props.button}
      </button>
      <p class="muted" role="status" data-passkey-status />
    </form>
  );
}

/**
 * Answers a passkey form's request for options: a form post (its CSRF field checked, and
 * its Origin by `formFields`; counted per address, `passkeyChallengesPerIp`), answered as JSON — `{ options }`, or `{ error }` with the
 * status of the refusal (`missing` when `make` has none to give). Never cached.
 */
export async function passkeyOptionsResponse(
  c: Context<AppEnv>,
  make: (form: Record<string, string>) => Promise<object | null>,
  missing: { status: 401 | 404 | 409; message: string },
): Promise<Response> {
  c.header('Cache-Control', 'no-store');
  try {
    const form = await formFields(c);
    verifyCsrf(c, form.csrf);
    // Every challenge is a row until it expires, whoever asks: counted per address.
    await c.var.deps.rateLimits.consume('passkeyChallengesPerIp', clientIp(c));
    const options = await make(form);
    return options ? c.json({ options }) : c.json({ error: missing.message }, missing.status);
  } catch (error) {
    if (!isAppError(error)) throw error;
    const retryAfter = error.details?.retryAfterSeconds;
    if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter));
    return c.json({ error: error.message }, error.status as 400);
  }
}
