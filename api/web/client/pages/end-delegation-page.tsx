import type { DelegationState } from '../../../../core/delegation-machine.ts';
import type { EndLinkView } from '../../../../services/delegations/end-links.ts';
import { utcDay } from '../../shared/format.ts';
import { Layout } from '../../shared/layout.tsx';
import { RoleList } from './role-list.tsx';

/**
 * The confirmation page of an "End this delegation" link: who the partner is, what it
 * holds, and one button. Opening it changes nothing; only the button (a POST) ends it.
 */
export function EndDelegationPage(props: { link: EndLinkView; csrf: string; action: string }) {
  const { link } = props;
  const title = `End the delegation to ${link.partnerName}?`;
  return (
    <Layout title={title}>
      <h1>{title}</h1>
      <dl>
        <dt>Partner</dt>
        <dd>{link.partnerName}</dd>
        <dt>Organization</dt>
        <dd>{link.clientName}</dd>
        <dt>State</dt>
        <dd>{stateWords[link.state]}</dd>
        <dt>Until</dt>
        <dd>{utcDay(link.endsAt)}</dd>
      </dl>
      <h2>What {link.partnerName} holds</h2>
      <RoleList roles={link.roles} />
      <p>
        Ending it takes effect at once: {link.partnerName} can no longer act in {link.clientName}, and work it asked for
        that has not run yet is refused. Both sides are emailed. It cannot be undone; the partner would need to send a
        new offer.
      </p>
      <form method="post" action={props.action}>
        <input type="hidden" name="csrf" value={props.csrf} />
        <button type="submit" class="danger">
          End this delegation
        </button>
      </form>
    </Layout>
  );
}

const stateWords: Record<DelegationState, string> = {
  invited: 'Offered, not answered yet',
  offered: 'Offered, not answered yet',
  accepting: 'Accepted; the access is being granted',
  active: 'Active',
  declined: 'Declined',
  expired: 'Expired',
  terminated: 'Ended',
  failed: 'Never granted',
};

/** Why a delegation needs no ending (it has ended, or never began), in a sentence. */
export function nothingToEnd(link: EndLinkView): string {
  switch (link.state) {
    case 'expired':
      return `The delegation to ${link.partnerName} has already ended: it expired. ${link.partnerName} cannot act in ${link.clientName}.`;
    case 'declined':
      return `The offer from ${link.partnerName} was declined: it has no access to ${link.clientName}.`;
    case 'failed':
      return `The delegation to ${link.partnerName} was never granted: it has no access to ${link.clientName}.`;
    default:
      return `The delegation to ${link.partnerName} has already ended. ${link.partnerName} cannot act in ${link.clientName}.`;
  }
}
