import { describeRoles } from '../access.ts';
import type { Role } from '../roles.ts';
import { renderNotice } from './layout.ts';
import type { RenderedEmail } from './offer-email.ts';

const day = (d: Date) => d.toISOString().slice(0, 10);

export interface DelegationFacts {
  partnerName: string;
  clientName: string;
  roles: readonly Role[];
  endsAt: Date;
  autoExtend: boolean;
}

/** To the partner's owners when a client accepted. */
export function acceptedForPartner(f: DelegationFacts, acceptedBy: string): RenderedEmail {
  return renderNotice(`${f.clientName} accepted your delegated administration offer`, [
    `${f.clientName} accepted your delegated administration offer (accepted by ${acceptedBy}).`,
    `${describeRoles(f.roles)}. It is active until ${day(f.endsAt)}${f.autoExtend ? ' and renews automatically by 180 days' : ''}.`,
  ]);
}

/** To the client's admin who accepted: what was granted and how to end it. */
export function receiptForClient(f: DelegationFacts, manageUrl: string): RenderedEmail {
  return renderNotice(
    `You granted ${f.partnerName} delegated administration`,
    [
      `You granted ${f.partnerName} delegated administration of ${f.clientName}.`,
      `${describeRoles(f.roles)}. Device management is not included.`,
      `It lasts until ${day(f.endsAt)}${f.autoExtend ? ', then renews automatically by 180 days unless it is ended' : ''}.`,
      'You can end it at any time; every action the partner takes in your organization is listed on the same page.',
    ],
    { label: 'See and end your delegations', url: manageUrl },
  );
}

/** To both sides when either ended a delegation. */
export function terminatedNotice(f: Omit<DelegationFacts, 'endsAt' | 'autoExtend'>, endedBy: string): RenderedEmail {
  return renderNotice(`Delegated administration between ${f.partnerName} and ${f.clientName} has ended`, [
    `The delegated administration of ${f.clientName} by ${f.partnerName} was ended by ${endedBy}.`,
    `${f.partnerName} can no longer act in ${f.clientName}.`,
  ]);
}

/** To both sides, 30, 7 and 1 day before the end. */
export function expiryNotice(f: DelegationFacts, daysLeft: number): RenderedEmail {
  const when = daysLeft === 1 ? 'tomorrow' : `in ${daysLeft} days`;
  return renderNotice(`Delegated administration of ${f.clientName} by ${f.partnerName} ends ${when}`, [
    `The delegated administration of ${f.clientName} by ${f.partnerName} ends on ${day(f.endsAt)}.`,
    f.autoExtend
      ? 'It renews automatically by 180 days unless either side ends it.'
      : 'After that date the partner can no longer act in the organization unless a new offer is accepted.',
  ]);
}

/** To both sides when a delegation reached its end. */
export function expiredNotice(f: Omit<DelegationFacts, 'autoExtend'>): RenderedEmail {
  return renderNotice(`Delegated administration of ${f.clientName} by ${f.partnerName} has expired`, [
    `The delegated administration of ${f.clientName} by ${f.partnerName} reached its end on ${day(f.endsAt)}.`,
    `${f.partnerName} can no longer act in ${f.clientName}.`,
  ]);
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
}): RenderedEmail {
  const what =
    p.kind === 'new-user' ? `The account ${p.userEmail} was created` : `The password of ${p.userEmail} was reset`;
  return renderNotice(
    p.kind === 'new-user' ? `New account in ${p.orgName}` : `Password reset in ${p.orgName}`,
    [
      `${what} in ${p.orgName}.`,
      `Temporary password: ${p.password}`,
      'It must be changed at the first sign-in. Pass it on through a channel you trust, then delete this email.',
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
