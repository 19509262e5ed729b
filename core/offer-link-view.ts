import type { DelegationState } from './delegation-machine.ts';

export interface OfferLinkFacts {
  /** A campaign recipient's own link, or an offer's reusable link. */
  kind: 'personal' | 'reusable';
  offerRevoked: boolean;
  offerExpired: boolean;
  /** The delegation behind a personal link. */
  delegation?: { id: string; state: DelegationState; clientOrgId: string | null };
  /** The live delegation between this partner and the viewer's organization, if any. */
  liveForViewer?: { id: string } | null;
}

export interface ViewerFacts {
  orgId: string;
  orgKind: 'partner' | 'client';
  isGlobalAdmin: boolean;
}

export type OfferLinkView =
  /** Show the state of this delegation (the viewer's organization holds it). */
  | { page: 'status'; delegationId: string }
  /** Show the offer; who is looking decides which forms appear. */
  | { page: 'offer'; who: 'anonymous' | 'client-admin' | 'not-allowed' }
  /** The link can no longer be used (HTTP 410). */
  | { page: 'gone'; reason: 'revoked' | 'expired' | 'declined' | 'answered' | 'ended' };

const ended: DelegationState[] = ['terminated', 'expired'];

/** What the offer page shows for a link and a viewer. Pure; the route maps it to HTML. */
export function offerLinkView(link: OfferLinkFacts, viewer: ViewerFacts | null): OfferLinkView {
  const isClientAdmin = viewer?.orgKind === 'client' && viewer.isGlobalAdmin;
  if (link.delegation && viewer && link.delegation.clientOrgId === viewer.orgId) {
    return { page: 'status', delegationId: link.delegation.id };
  }
  if (isClientAdmin && link.liveForViewer) return { page: 'status', delegationId: link.liveForViewer.id };
  if (link.offerRevoked) return { page: 'gone', reason: 'revoked' };
  if (link.delegation) {
    const state = link.delegation.state;
    if (state === 'declined') return { page: 'gone', reason: 'declined' };
    if (ended.includes(state)) return { page: 'gone', reason: 'ended' };
    if (state !== 'invited' && state !== 'offered') return { page: 'gone', reason: 'answered' };
  }
  if (link.offerExpired) return { page: 'gone', reason: 'expired' };
  if (!viewer) return { page: 'offer', who: 'anonymous' };
  return { page: 'offer', who: isClientAdmin ? 'client-admin' : 'not-allowed' };
}
