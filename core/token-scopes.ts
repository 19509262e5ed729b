import {
  canManageDelegations,
  canSendOffers,
  type PartnerRoleView,
  seesClientOrganizations,
} from './partner-permissions.ts';

/**
 * What an API token may be used for, each in the words the dashboard and the OpenAPI
 * document show. A route declares the one scope it needs in its `security`
 * (api/schemas.ts `needsScope`); the bearer middleware reads those declarations, so this
 * table and the routes are the only two places that know. `read` covers every GET; each
 * write scope the POST, PUT and DELETE of its area.
 */
export const tokenScopeWords = {
  read: 'Read everything your access shows (every GET)',
  'offers:write': 'Create and revoke offers',
  'campaigns:write': 'Send campaigns and retry their failed recipients',
  'delegations:write': 'End delegations, extend them and propose amendments',
  'operations:write': 'Request and retry operations in client organizations (users, passwords, domains)',
  'staff:write': 'Invite staff, revoke invitations and change their access',
  'webhooks:write': 'Manage webhooks',
} as const;

export type TokenScope = keyof typeof tokenScopeWords;
export const tokenScopes = Object.keys(tokenScopeWords) as [TokenScope, ...TokenScope[]];

export const DEFAULT_TOKEN_DAYS = 90;
export const MAX_TOKEN_DAYS = 365;

export function isTokenScope(value: string): value is TokenScope {
  return Object.hasOwn(tokenScopeWords, value);
}

/**
 * The scopes a partner user may give a token: those whose routes their staff access can
 * use at all (core/partner-permissions.ts). Services still check the access of the moment
 * on every request; this only keeps a token from claiming what its holder never had.
 */
const holderMayHave: Record<TokenScope, (user: PartnerRoleView) => boolean> = {
  read: () => true,
  'offers:write': canSendOffers,
  'campaigns:write': canSendOffers,
  'delegations:write': canManageDelegations,
  'operations:write': seesClientOrganizations,
  'staff:write': (user) => user.isOwner,
  'webhooks:write': (user) => user.isOwner,
};

export function scopesAllowedFor(user: PartnerRoleView): TokenScope[] {
  return tokenScopes.filter((scope) => holderMayHave[scope](user));
}
