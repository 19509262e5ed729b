import type { MemberFactorView } from '../../../../services/accounts/two-factor-policy.ts';
import { Layout } from '../../shared/layout.tsx';
import { TwoFactorPolicyForm } from '../../shared/two-factor-policy-form.tsx';

/** A client organization's sign-in settings, for its global administrators. */
export function OrgSecurityPage(props: {
  orgName: string;
  csrf: string;
  required: boolean;
  members: MemberFactorView[];
  /** The weekly email of partner actions is on. */
  digest: boolean;
  notice?: string | undefined;
}) {
  return (
    <Layout title="Sign-in security">
      <h1>{`Sign-in security — ${props.orgName}`}</h1>
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      <TwoFactorPolicyForm
        action="/org/security"
        csrf={props.csrf}
        required={props.required}
        people="administrators"
        members={props.members}
      />
      <section class="card">
        <h2>Weekly email of partner actions</h2>
        <p data-testid="weekly-digest">
          {props.digest
            ? 'On: every Monday, your organization’s global administrators get an email of what partners did here the week before.'
            : 'Off: no weekly email. Every partner action is still on your organization’s page.'}
        </p>
        <form method="post" action="/org/digest">
          <input type="hidden" name="csrf" value={props.csrf} />
          <input type="hidden" name="digest" value={props.digest ? 'off' : 'on'} />
          <button type="submit" class="secondary">
            {props.digest ? 'Stop the weekly email' : 'Send the weekly email'}
          </button>
        </form>
      </section>
      <p>
        <a href="/org/delegations">Back to your organization</a>
      </p>
    </Layout>
  );
}
