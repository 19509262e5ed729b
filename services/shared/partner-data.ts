import { AppError } from '../../core/errors.ts';
import { type PartnerRoleView, seesPartnerData } from '../../core/partner-permissions.ts';

/** What staff with access `none` are told wherever partner data would be: the API's 403 and the dashboard's. */
export const NO_ACCESS_YET =
  "You have no access yet to the partner's offers, campaigns, delegations or operations: your staff access is none. An owner can give you access; your own account and API tokens stay yours to use.";

/**
 * The first line of every service that reads the partner's data (core/partner-permissions.ts
 * `seesPartnerData`): NOT_AUTHORIZED for staff with access none, before anything is read —
 * so an id that does not exist is refused the same way as one that does.
 */
export function assertSeesPartnerData(principal: PartnerRoleView): void {
  if (!seesPartnerData(principal)) throw new AppError('NOT_AUTHORIZED', NO_ACCESS_YET);
}
