import type { MemberFactorView } from '../../../../services/accounts/two-factor-policy.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { TwoFactorPolicyForm } from '../../shared/two-factor-policy-form.tsx';
import { DashboardLayout } from './layout.tsx';

/** The partner's sign-in settings (owners only): the two-factor requirement for its staff. */
export function SecurityPage(props: {
  principal: PartnerPrincipal;
  csrf: string;
  required: boolean;
  members: MemberFactorView[];
  notice?: string | undefined;
}) {
  return (
    <DashboardLayout
      title="Sign-in security"
      principal={props.principal}
      csrf={props.csrf}
      section="/dashboard/security"
    >
      {props.notice ? <p class="ok">{props.notice}</p> : null}
      <TwoFactorPolicyForm
        action="/dashboard/security"
        csrf={props.csrf}
        required={props.required}
        people="staff"
        members={props.members}
      />
    </DashboardLayout>
  );
}
