import type { DelegationState } from '../../../../core/delegation-machine.ts';
import type { Role } from '../../../../core/roles.ts';
import { utcDay } from '../../shared/format.ts';
import { Layout } from '../../shared/layout.tsx';
import { RoleList } from './role-list.tsx';

export interface StatusPageProps {
  partnerName: string;
  roles: readonly Role[];
  state: DelegationState;
  endsAt: Date | null;
  autoExtend: boolean;
  failureReason: string | null;
  /** The organization already had this delegation when the offer was accepted again. */
  alreadyLive?: boolean;
}

/**
 * Where an accepted offer stands, for the client's admin. While the grant is being
 * processed the page reloads itself every 2 seconds (no script needed).
 */
export function StatusPage(props: StatusPageProps) {
  const title = `Delegation to ${props.partnerName}`;
  const refresh = props.state === 'accepting' ? 2 : undefined;
  return (
    <Layout title={title} {...(refresh ? { refreshSeconds: refresh } : {})}>
      <h1>{title}</h1>
      {props.alreadyLive ? (
        <p class="notice">Your organization already has a delegation with {props.partnerName}; nothing was changed.</p>
      ) : null}
      <p
        id="delegation-status"
        data-state={props.state}
        class={props.state === 'active' ? 'ok' : props.state === 'accepting' ? 'notice' : 'error'}
      >
        {message(props)}
      </p>
      <h2>{props.state === 'accepting' || props.state === 'active' ? 'Roles granted' : 'Roles'}</h2>
      <RoleList roles={props.roles} />
      <p>Device management is never included.</p>
      <p>
        <a href="/org/delegations">See and end your organization's delegations</a>
      </p>
    </Layout>
  );
}

function message(p: StatusPageProps): string {
  switch (p.state) {
    case 'accepting':
      return 'Accepted. We are granting the access now; this page updates by itself.';
    case 'active':
      return `Active: ${p.partnerName} has access until ${p.endsAt ? utcDay(p.endsAt) : 'its end date'}${p.autoExtend ? ', renewing automatically' : ''}.`;
    case 'failed':
      return `The access could not be granted: ${p.failureReason ?? 'unknown reason'}.`;
    case 'terminated':
      return 'This delegation has been ended.';
    case 'expired':
      return 'This delegation has expired.';
    case 'declined':
      return 'This offer was declined.';
    default:
      return `State: ${p.state}.`;
  }
}
