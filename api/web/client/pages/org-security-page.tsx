import type { MemberFactorView } from '../../../../services/accounts/two-factor-policy.ts';
import { Layout } from '../../shared/layout.tsx';
import { TwoFactorPolicyForm } from '../../shared/two-factor-policy-form.tsx';

/** A client organization's sign-in settings, for its global administrators. */
export function OrgSecurityPage(props: {
  orgName: string;
  csrf: string;
  required: boolean;
  members: MemberFactorView[];
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
      <p>
        <a href="/org/delegations">Back to your organization</a>
      </p>
    </Layout>
  );
}
