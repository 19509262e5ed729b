import { describeRoles } from '../access.ts';
import { type Role, roleCatalogue, sortRoles } from '../roles.ts';
import { renderNotice } from './layout.ts';
import type { RenderedEmail } from './offer-email.ts';

const day = (d: Date) => d.toISOString().slice(0, 10);
const roleLabels = (set: readonly Role[]) => sortRoles(set).map((role) => roleCatalogue[role].label);

export interface DelegationFacts {
  partnerName: string;
  clientName: string;
  roles: readonly Role[];
  endsAt: Date;
  autoExtend: boolean;
}

/**
 * To the partner's owners when a client accepted: the roles granted, and the optional
 * roles the client left out (`leftOut`, none by default).
 */
export function acceptedForPartner(
  f: DelegationFacts,
  acceptedBy: string,
  leftOut: readonly Role[] = [],
): RenderedEmail {
  return renderNotice(`${f.clientName} accepted your delegated administration offer`, [
    `${f.clientName} accepted your delegated administration offer (accepted by ${acceptedBy}).`,
    `${describeRoles(f.roles)}. It is active until ${day(f.endsAt)}${f.autoExtend ? ' and renews automatically by 180 days' : ''}.`,
    `Roles granted: ${roleLabels(f.roles).join(', ')}.`,
    ...(leftOut.length > 0
      ? [
          `Optional roles ${f.clientName} left out: ${roleLabels(leftOut).join(', ')}. Your staff cannot use them there; only the client can grant them later, by accepting an amendment.`,
        ]
      : []),
  ]);
}

/**
 * To the client's admin who accepted: what was granted and how to end it (`endUrl`: the
 * delegation's signed end link).
 */
export function receiptForClient(f: DelegationFacts, manageUrl: string, endUrl?: string): RenderedEmail {
  return renderNotice(
    `You granted ${f.partnerName} delegated administration`,
    [
      `You granted ${f.partnerName} delegated administration of ${f.clientName}.`,
      `${describeRoles(f.roles)}. Device management is not included.`,
      `Roles granted: ${roleLabels(f.roles).join(', ')}.`,
      `It lasts until ${day(f.endsAt)}${f.autoExtend ? ', then renews automatically by 180 days unless it is ended' : ''}.`,
      'You can end it at any time; every action the partner takes in your organization is listed on the same page.',
    ],
    { label: 'See and end your delegations', url: manageUrl },
    { endUrl },
  );
}

/** To both sides when either ended a delegation (`endUrl` on the client's side only). */
export function terminatedNotice(
  f: Omit<DelegationFacts, 'endsAt' | 'autoExtend'>,
  endedBy: string,
  endUrl?: string,
): RenderedEmail {
  return renderNotice(
    `Delegated administration between ${f.partnerName} and ${f.clientName} has ended`,
    [
      `The delegated administration of ${f.clientName} by ${f.partnerName} was ended by ${endedBy}.`,
      `${f.partnerName} can no longer act in ${f.clientName}.`,
    ],
    undefined,
    { endUrl },
  );
}

/** To both sides, 30, 7 and 1 day before the end (`endUrl` on the client's side only). */
export function expiryNotice(f: DelegationFacts, daysLeft: number, endUrl?: string): RenderedEmail {
  const when = daysLeft === 1 ? 'tomorrow' : `in ${daysLeft} days`;
  return renderNotice(
    `Delegated administration of ${f.clientName} by ${f.partnerName} ends ${when}`,
    [
      `The delegated administration of ${f.clientName} by ${f.partnerName} ends on ${day(f.endsAt)}.`,
      f.autoExtend
        ? 'It renews automatically by 180 days unless either side ends it.'
        : 'After that date the partner can no longer act in the organization unless a new offer is accepted.',
    ],
    undefined,
    { endUrl },
  );
}

/** To both sides when a delegation reached its end (`endUrl` on the client's side only). */
export function expiredNotice(f: Omit<DelegationFacts, 'autoExtend'>, endUrl?: string): RenderedEmail {
  return renderNotice(
    `Delegated administration of ${f.clientName} by ${f.partnerName} has expired`,
    [
      `The delegated administration of ${f.clientName} by ${f.partnerName} reached its end on ${day(f.endsAt)}.`,
      `${f.partnerName} can no longer act in ${f.clientName}.`,
    ],
    undefined,
    { endUrl },
  );
}

/** To the partner's owners when the recipient of a campaign's offer declined it. */
export function declinedForPartner(
  f: Pick<DelegationFacts, 'clientName' | 'roles'> & { recipientEmail: string | null },
  declinedBy: string,
  dashboardUrl: string,
): RenderedEmail {
  return renderNotice(
    `${f.clientName} declined your delegated administration offer`,
    [
      `${f.clientName} declined your delegated administration offer${f.recipientEmail ? `, sent to ${f.recipientEmail}` : ''} (declined by ${declinedBy}).`,
      `You asked for: ${roleLabels(f.roles).join(', ')}. Nothing was granted: your staff cannot act in their organization.`,
    ],
    { label: 'See the delegation', url: dashboardUrl },
  );
}

/**
 * A temporary password for a user a partner created or reset, to the address the
 * partner chose. The password appears only in this email; the user must change it at
 * the first sign-in.
 */
export function temporaryPasswordEmail(p: {
  kind: 'new-user' | 'reset';
  userEmail: string;
  orgName: string;
  password: string;
  signInUrl: string;
  /** The delegation's end link, when the email goes to a global admin of the client. */
  endUrl?: string | undefined;
}): RenderedEmail {
  const what =
    p.kind === 'new-user' ? `The account ${p.userEmail} was created` : `The password of ${p.userEmail} was reset`;
  return renderNotice(
    p.kind === 'new-user' ? `New account in ${p.orgName}` : `Password reset in ${p.orgName}`,
    [
      `${what} in ${p.orgName}.`,
      `Temporary password: ${p.password}`,
      'It must be changed at the first sign-in. Pass it on through a channel you trust, then delete this email.',
      ...(p.endUrl
        ? ['This was done by a partner through delegated administration. If you did not expect it, end the delegation.']
        : []),
    ],
    { label: 'Sign in', url: p.signInUrl },
    { endUrl: p.endUrl },
  );
}

/**
 * To the user whose password a partner reset through delegated administration: who did it
 * (the staff member, by name and address, and their partner) and what to do if it was not
 * expected. The temporary password itself is not in it: it went to whoever the reset chose.
 */
export function passwordResetNotice(p: {
  accountEmail: string;
  orgName: string;
  staffName: string;
  staffEmail: string;
  partnerName: string;
  signInUrl: string;
}): RenderedEmail {
  return renderNotice(
    `Your password in ${p.orgName} was reset`,
    [
      `The password of your account ${p.accountEmail} in ${p.orgName} was reset by ${p.staffName} (${p.staffEmail}) of ${p.partnerName}, a partner your organization lets administer it. Your old password no longer works and you were signed out everywhere; you will be given a temporary password to sign in with, and asked to choose your own.`,
      `If you did not expect this, tell your organization's administrator at once: they can see what ${p.partnerName} did in your organization and end its access.`,
    ],
    { label: 'Sign in', url: p.signInUrl },
  );
}

/** Confirms the address of someone creating an organization; nothing exists until they do. */
export function confirmSignupEmail(p: { orgName: string; link: string }): RenderedEmail {
  return renderNotice(
    'Confirm your email to create your organization',
    [
      `Someone (we hope you) asked to create the organization ${p.orgName} in Mandate with this address.`,
      'Open the link below within an hour to confirm. If it was not you, ignore this email: nothing has been created.',
    ],
    { label: 'Confirm and create the organization', url: p.link },
  );
}

/** An invitation to a partner's staff; nothing exists until the link is used. */
export function staffInvitationEmail(p: {
  partnerName: string;
  invitedBy: string;
  access: string;
  link: string;
  expiresDays: number;
}): RenderedEmail {
  return renderNotice(
    `${p.partnerName} invites you to Mandate as staff`,
    [
      `${p.invitedBy} invited this address to the staff of ${p.partnerName} in Mandate, where partners administer the organizations they support.`,
      `Access offered in the clients ${p.partnerName} supports: ${p.access}.`,
      `Open the link below within ${p.expiresDays} days to choose your password and join. If you did not expect this, ignore this email: no account has been created.`,
    ],
    { label: 'Accept the invitation', url: p.link },
  );
}

/**
 * Sent instead of an invitation when the address already has an account: one address
 * belongs to one organization. The owner who invited got the answer every invitation gets.
 */
export function staffInvitationRefusedEmail(p: { partnerName: string; invitedBy: string }): RenderedEmail {
  return renderNotice(`${p.partnerName} tried to add you to their staff in Mandate`, [
    `${p.invitedBy} at ${p.partnerName} tried to add this address to their staff in Mandate, but this address already has a Mandate account, and one address belongs to one organization. Nothing was created and nothing changed in your account.`,
    `If you are meant to join ${p.partnerName}, ask them to invite another address of yours. If you did not expect this, ignore this email.`,
  ]);
}

/** Sent instead of a confirmation when the address already has an account. */
export function signupExistsEmail(p: { signInUrl: string }): RenderedEmail {
  return renderNotice(
    'You already have an account',
    [
      'Someone (we hope you) tried to create an organization in Mandate with this address, which already has an account.',
      'To answer an offer, sign in on the offer page instead. If it was not you, ignore this email.',
    ],
    { label: 'Sign in', url: p.signInUrl },
  );
}

/**
 * To the owners of an account (a partner's owners for its staff; a client's user
 * themselves) when its wrong passwords reached the account-wide limit. `held`: the
 * account has no second factor, so its sign-ins wait until `heldMinutes` have passed;
 * otherwise the right password still goes on to the code, and nothing waits but the
 * addresses that failed.
 */
export function signInLockoutNotice(p: {
  accountEmail: string;
  failures: number;
  windowMinutes: number;
  addresses: number;
  held: boolean;
  heldMinutes: number;
  twoFactorUrl: string;
}): RenderedEmail {
  return renderNotice(
    `Too many wrong passwords for ${p.accountEmail}`,
    [
      `Mandate refused ${p.failures} wrong passwords for ${p.accountEmail} within ${p.windowMinutes} minutes, from ${p.addresses === 1 ? 'one address' : `${p.addresses} addresses`}. Someone may be guessing the password.`,
      p.held
        ? `This account has no second factor, so its sign-ins are held for up to ${p.heldMinutes} minutes, even with the right password. Turning on two-factor sign-in lets its owner through during such an attack.`
        : 'Two-factor sign-in is on for this account: the password alone lets nobody in, and its owner can still sign in with the password and a code. Only the addresses that failed have to wait.',
      'If the password may be known to someone else, change it. If these attempts were yours, there is nothing to do.',
    ],
    { label: 'Two-factor sign-in', url: p.twoFactorUrl },
  );
}

/** A change of an account's second factors, as its email tells it. */
export type SecondFactorChange = 'totp_on' | 'totp_off' | 'passkey_added' | 'passkey_removed';

/**
 * To the account itself when its second factors changed (an authenticator app turned on
 * or off, a passkey added or removed): if it was not them, someone holds a session of theirs.
 */
export function secondFactorChangeNotice(p: {
  accountEmail: string;
  change: SecondFactorChange;
  passkeyName?: string | undefined;
  sessionsUrl: string;
}): RenderedEmail {
  const named = p.passkeyName ? ` “${p.passkeyName}”` : '';
  const { subject, what } = {
    totp_on: {
      subject: `Two-factor sign-in was turned on for ${p.accountEmail}`,
      what: `Two-factor sign-in was turned on for ${p.accountEmail}: signing in with the password now asks for a code from an authenticator app.`,
    },
    totp_off: {
      subject: `Two-factor sign-in was turned off for ${p.accountEmail}`,
      what: `Two-factor sign-in with an authenticator app was turned off for ${p.accountEmail}.`,
    },
    passkey_added: {
      subject: `A passkey was added to ${p.accountEmail}`,
      what: `A passkey${named} was added to ${p.accountEmail}: it signs in to the account on its own.`,
    },
    passkey_removed: {
      subject: `A passkey was removed from ${p.accountEmail}`,
      what: `The passkey${named} was removed from ${p.accountEmail}.`,
    },
  }[p.change];
  return renderNotice(
    subject,
    [
      `${what} Every other session of the account was signed out.`,
      'If this was not you, someone is signed in as you: sign out everywhere else, change your password, and check your two-factor sign-in and passkeys.',
    ],
    { label: 'Where you are signed in', url: p.sessionsUrl },
  );
}

/**
 * To a staff member when their account was linked to an account at their partner's
 * identity provider (the first single sign-on): from then on that provider signs them in.
 */
export function ssoLinkNotice(p: { accountEmail: string; issuer: string; sessionsUrl: string }): RenderedEmail {
  return renderNotice(
    `Single sign-on was linked to ${p.accountEmail}`,
    [
      `Your Mandate account ${p.accountEmail} was linked to your account at the identity provider ${p.issuer}, and signed in through it. From now on, signing in there signs you in here.`,
      'If this was not you, tell your partner’s owners at once: someone who controls that identity provider signed in as you.',
    ],
    { label: 'Where you are signed in', url: p.sessionsUrl },
  );
}

/** One partner's actions in a client organization during a week, as the digest lists them. */
export interface DigestPartner {
  name: string;
  actions: { label: string; count: number; refused: number }[];
}

/**
 * To a client organization's global admins, once a week: what each partner did in the
 * organization during the last whole week (counts per action, refusals apart).
 */
export function weeklyDigestNotice(p: {
  orgName: string;
  week: string;
  partners: DigestPartner[];
  pageUrl: string;
  settingsUrl: string;
}): RenderedEmail {
  const lines = p.partners.map(
    (partner) =>
      `${partner.name}: ${partner.actions
        .map((a) => `${a.label} ×${a.count}${a.refused > 0 ? ` (${a.refused} refused)` : ''}`)
        .join('; ')}.`,
  );
  return renderNotice(
    `What partners did in ${p.orgName} in the week of ${p.week}`,
    [
      `In the week starting ${p.week} (UTC), partners with delegated access to ${p.orgName} did this:`,
      ...lines,
      `Every action, with who and when, is on your organization's page. To stop these weekly emails: ${p.settingsUrl}`,
    ],
    { label: 'Your organization’s page', url: p.pageUrl },
  );
}

/** To a partner's owners when Mandate turned one of their webhook endpoints off. */
export function webhookDisabledNotice(p: { url: string; reason: string; endpointUrl: string }): RenderedEmail {
  return renderNotice(
    'Mandate turned off one of your webhooks',
    [
      `Mandate stopped sending events to ${p.url}: ${p.reason}.`,
      'Events that happen while it is off are not kept for it. Once the receiver works again, turn the webhook back on; deliveries that failed can be sent again from its page.',
    ],
    { label: 'See the webhook and its deliveries', url: p.endpointUrl },
  );
}
