import { NO_ACCESS_YET } from '../../../../services/shared/partner-data.ts';
import type { PartnerPrincipal } from '../../../../services/shared/principals.ts';
import { DashboardLayout } from './layout.tsx';

/**
 * The front page of staff with access none: no partner data (core/partner-permissions.ts
 * `seesPartnerData`), only what stays theirs — their account and their API tokens.
 */
export function NoAccessPage(props: { principal: PartnerPrincipal; csrf: string }) {
  return (
    <DashboardLayout title="No access yet" principal={props.principal} csrf={props.csrf} section="/dashboard">
      <section class="card">
        <p>{NO_ACCESS_YET}</p>
        <ul>
          <li>
            <a href="/account">Your account</a>: password, two-factor sign-in, where you are signed in.
          </li>
          <li>
            <a href="/dashboard/tokens">Your API tokens</a>.
          </li>
        </ul>
      </section>
    </DashboardLayout>
  );
}
