import { type OperationKind, operationKindNames, operationKinds, operationPhrase } from './operation-kinds.ts';

/**
 * Every action the audit trail records, with the words a person reads for it (the
 * client's page, the partner's audit). A closed list: `recordAudit` takes only these.
 */
const fixedActions = {
  'partner.create': 'Created the partner',
  'staff.invite': 'Invited someone to the staff',
  'staff.invitation.accept': 'Joined the staff from an invitation',
  'staff.invitation.revoke': 'Withdrew an invitation to the staff',
  'staff.set_access': "Changed a staff member's access",
  'staff.remove': 'Removed a staff member',
  'organization.create': 'Created the organization',
  'offer.create': 'Created an offer',
  'offer.revoke': 'Withdrew an offer',
  'campaign.create': 'Started a campaign',
  'campaign.retry_failed': 'Sent failed offers again',
  'campaign.remind': 'Reminded the recipients of a campaign who had not answered',
  'campaign.stop': 'Stopped a campaign: whoever sent it may no longer send offers',
  'delegation.accept': 'Accepted the delegation',
  'delegation.decline': 'Declined the offer',
  'delegation.activate': 'Granted the delegated access',
  'delegation.terminate': 'Ended the delegation',
  'delegation.extend': 'Extended the delegation',
  'amendment.reduce': 'Gave up part of the delegated access',
  'amendment.propose': 'Asked the organization for more delegated access',
  'amendment.accept': 'Agreed to give the partner more delegated access',
  'amendment.decline': 'Refused to give the partner more delegated access',
  'amendment.expire': 'A request for more delegated access expired unanswered',
  'amendment.cancel': 'A request for more delegated access lapsed: the delegation had ended',
  'two_factor.enable': 'Turned on two-factor sign-in',
  'two_factor.disable': 'Turned off two-factor sign-in',
  'two_factor.code': 'Entered a code from an authenticator app',
  'two_factor.recovery_code': 'Used a one-time recovery code',
  'passkey.register': 'Added a passkey',
  'passkey.remove': 'Removed a passkey',
  'passkey.sign_in': 'Signed in with a passkey alone',
  'passkey.confirm': 'Confirmed with a passkey (the second step of a sign-in, or a step-up)',
  'sign_in.password': 'Entered a password to sign in',
  'sign_in.lockout': 'Too many wrong passwords for the account: sign-ins slowed down and its owners emailed',
  'sso.configure': 'Set up single sign-on for staff',
  'sso.enable': 'Turned on single sign-on for staff',
  'sso.verify_domain': "Proved the staff's email domain for single sign-on",
  'sso.disable': 'Turned off single sign-on for staff',
  'sso.link': 'Linked an account at the identity provider to a staff account',
  'sso.sign_in': 'Signed in through the identity provider',
  'session.end': 'Signed out one of their sessions',
  'session.end_others': 'Signed out everywhere else',
  'api.denied': 'Was refused a request to the API',
  'session.step_up': 'Confirmed it was them with a second factor, for a sensitive change',
  'organization.two_factor_policy': 'Changed whether two-factor sign-in is required',
  'organization.weekly_digest': 'Turned the weekly email of partner actions on or off',
  'api_token.create': 'Created an API token',
  'api_token.revoke': 'Revoked an API token',
  'webhook.create': 'Added a webhook',
  'webhook.update': 'Changed a webhook',
  'webhook.delete': 'Deleted a webhook',
  'webhook.rotate_secret': "Replaced a webhook's signing secret",
  'webhook.test': 'Sent a test event to a webhook',
  'webhook.redeliver': 'Sent a webhook delivery again',
  'webhook.disable': 'A webhook was turned off: its receiver was gone or kept failing',
} as const;

/**
 * Each operation kind's actions: asked for (one row that follows the operation to its end:
 * in progress, then done, failed or refused), and asked again after a failure (likewise).
 */
type OperationAction = `operation.${OperationKind}` | `operation.retry.${OperationKind}`;

export type AuditAction = keyof typeof fixedActions | OperationAction;

export const auditActionLabels: Record<AuditAction, string> = {
  ...fixedActions,
  ...(Object.fromEntries(
    operationKindNames.flatMap((kind) => [
      [`operation.${kind}`, operationKinds[kind].label],
      [`operation.retry.${kind}`, `Asked again to ${operationPhrase(kind)}`],
    ]),
  ) as Record<OperationAction, string>),
};

/** The actions recorded now, in the catalogue's order: what a trail can be filtered by. */
export const auditActions = Object.keys(auditActionLabels) as AuditAction[];

export const isAuditAction = (value: string): value is AuditAction => Object.hasOwn(auditActionLabels, value);

/**
 * The changes an operation makes, recorded in its one row (`detail.changes`) as it makes
 * them — so a failed or refused operation still shows what it changed before it stopped.
 */
export const operationChangeLabels = {
  'user.create': 'Created the user',
  'user.temporary_password': 'Set a temporary password',
  'user.password_reset': 'Reset the password',
  'domain.add': 'Added the domain',
  'domain.verify': 'Verified the domain',
} as const;

export type OperationChange = keyof typeof operationChangeLabels;

/** An operation row's changes (`detail.changes`) in words: "Created the user ann@…". */
export function changesInWords(detail: Record<string, unknown> | null): string[] {
  const changes = detail?.changes;
  if (!Array.isArray(changes)) return [];
  return changes.map((change: Record<string, unknown>) => {
    const action = String(change.action);
    const words = Object.hasOwn(operationChangeLabels, action)
      ? operationChangeLabels[action as OperationChange]
      : action;
    const about = typeof change.email === 'string' ? change.email : typeof change.name === 'string' ? change.name : '';
    return about ? `${words} ${about}` : words;
  });
}

/**
 * Actions older rows hold and nothing records any more: before an operation's story was one
 * row it was three (asked, each change, outcome), and staff were added before they were invited.
 */
const retiredActionLabels: Record<string, string> = {
  'staff.create': 'Added a staff member',
  ...operationChangeLabels,
  ...Object.fromEntries(
    operationKindNames.map((kind) => [`operation.request.${kind}`, `Asked to ${operationPhrase(kind)}`]),
  ),
};

/** The words for a recorded action; one not in any list shows as recorded. */
export function auditActionLabel(action: string): string {
  if (isAuditAction(action)) return auditActionLabels[action];
  return Object.hasOwn(retiredActionLabels, action) ? (retiredActionLabels[action] as string) : action;
}

/** How an action came out, in the words the trails show. An operation is `pending` until it ends. */
export const auditOutcomeLabels = {
  pending: 'In progress',
  succeeded: 'Done',
  failed: 'Failed',
  rejected: 'Refused',
} as const;

export type AuditOutcome = keyof typeof auditOutcomeLabels;
export const auditOutcomes = Object.keys(auditOutcomeLabels) as [AuditOutcome, ...AuditOutcome[]];
