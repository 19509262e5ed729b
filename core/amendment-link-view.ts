import type { AmendmentState } from './amendment-machine.ts';
import type { DelegationState } from './delegation-machine.ts';
import type { ViewerFacts } from './offer-link-view.ts';

export interface AmendmentLinkFacts {
  state: AmendmentState;
  /** Its answer time has passed (by the database clock), even if the sweep has not run yet. */
  pastExpiry: boolean;
  clientOrgId: string;
  delegation: { state: DelegationState; pastEnd: boolean };
}

export type AmendmentLinkView =
  /** Show before → after with Accept and Decline. */
  | { page: 'proposal' }
  /** Nobody is signed in: ask a global admin of the organization to sign in first. */
  | { page: 'sign-in' }
  /** Signed in, but not as a global admin of this organization (HTTP 403). */
  | { page: 'not-allowed' }
  /** Nothing to answer any more (HTTP 410). */
  | { page: 'gone'; reason: 'accepted' | 'declined' | 'expired' | 'cancelled' | 'ended' };

const answered = { applied: 'accepted', declined: 'declined', expired: 'expired', cancelled: 'cancelled' } as const;

/**
 * What an amendment link shows a viewer. Pure; the route maps it to HTML. Someone of
 * another organization learns nothing, not even whether it was answered; an answered or
 * dead proposal says so to anyone holding the link (it was sent to them).
 */
export function amendmentLinkView(link: AmendmentLinkFacts, viewer: ViewerFacts | null): AmendmentLinkView {
  if (viewer && (viewer.orgKind !== 'client' || viewer.orgId !== link.clientOrgId || !viewer.isGlobalAdmin)) {
    return { page: 'not-allowed' };
  }
  if (link.state !== 'pending') return { page: 'gone', reason: answered[link.state] };
  if (link.delegation.state !== 'active' || link.delegation.pastEnd) return { page: 'gone', reason: 'ended' };
  if (link.pastExpiry) return { page: 'gone', reason: 'expired' };
  return viewer ? { page: 'proposal' } : { page: 'sign-in' };
}
