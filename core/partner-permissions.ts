/** The parts of a partner user that decide what it may do in the partner's own account. */
export interface PartnerRoleView {
  isOwner: boolean;
  /** Staff access in client organizations; empty means none. */
  roles: readonly string[];
}

/**
 * Access `none` means no partner data beyond their own profile: staff without roles read
 * none of the partner's offers, campaigns (their recipients' addresses included),
 * delegations, operations or audit trail, on the API or the dashboard — only their own
 * account and their own API tokens. They are a colleague who has joined, not yet one
 * given work. Every service that reads partner data checks this first (NOT_AUTHORIZED).
 */
export function seesPartnerData(user: PartnerRoleView): boolean {
  return user.isOwner || user.roles.length > 0;
}

/**
 * Sending offers (and campaigns of them) is for owners and for staff who were given
 * administrative access to the companies the partner supports — the original's
 * "allow the user to create trial invitations and purchase offers". Staff without
 * access send nothing (and read nothing: `seesPartnerData`).
 */
export function canSendOffers(user: PartnerRoleView): boolean {
  return user.isOwner || user.roles.length > 0;
}

/**
 * An offer's reusable link is a way in for any client that gets it: shown again to the
 * partner's owners, and to the staff member who made the offer (who saw it at creation),
 * while they may still send offers — not to every colleague who may read the offer's terms.
 */
export function seesOfferLink(user: PartnerRoleView & { userId: string }, offerCreatedBy: string): boolean {
  return user.isOwner || (canSendOffers(user) && user.userId === offerCreatedBy);
}

/**
 * Why a campaign must stop sending, or null while it may go on: a campaign is sent on its
 * requester's authority, judged again for each email (services/campaigns/send-offer.ts), as
 * a queued operation is when it runs. `requester` null: no longer on the partner's staff.
 */
export function campaignStopReason(requester: PartnerRoleView | null): string | null {
  if (!requester) {
    return 'The staff member who sent this campaign is no longer on the staff: the rest of it was not sent.';
  }
  if (!canSendOffers(requester)) {
    return 'The staff member who sent this campaign no longer may send offers: the rest of it was not sent.';
  }
  return null;
}

/**
 * Ending and extending delegations changes the relationship with a client itself: for
 * owners and for staff with full access.
 */
export function canManageDelegations(user: PartnerRoleView): boolean {
  return user.isOwner || user.roles.includes('global_admin');
}

/** Staff without access see nothing that happened inside client organizations. */
export function seesClientOrganizations(user: PartnerRoleView): boolean {
  return user.isOwner || user.roles.length > 0;
}

/**
 * Owners and staff with full access see all of the partner's operations; staff with
 * limited access only their own (results of full-only work are not theirs to read);
 * staff without access none.
 */
export function seesAllOperations(user: PartnerRoleView): boolean {
  return user.isOwner || user.roles.includes('global_admin');
}

export function maySeeOperation(user: PartnerRoleView & { userId: string }, requestedBy: string): boolean {
  return seesAllOperations(user) || (seesClientOrganizations(user) && requestedBy === user.userId);
}
