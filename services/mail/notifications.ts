import { and, eq, sql } from 'drizzle-orm';
import {
  acceptedForPartner,
  type DelegationFacts,
  declinedForPartner,
  expiredNotice,
  expiryNotice,
  passwordResetNotice,
  receiptForClient,
  type SecondFactorChange,
  secondFactorChangeNotice,
  signInLockoutNotice,
  ssoLinkNotice,
  terminatedNotice,
} from '../../core/emails/notifications.ts';
import { type Role, sortRoles } from '../../core/roles.ts';
import type { DbOrTx } from '../../db/client.ts';
import { delegations, organizations, staffAccess, users } from '../../db/schema/index.ts';
import type { Config } from '../../lib/config.ts';
import { senderDomain } from '../../lib/mailer.ts';
import { endLinkPlaceholder } from './derived-links.ts';
import { type NewEmail, recordEmails } from './outbox.ts';

/**
 * Where notification emails come from and where their plain links point. A delegation's
 * signed "End this delegation" link is not here: it goes in as a placeholder
 * (`endLinkPlaceholder`, emails to the client's side only) and is derived when sending.
 */
export interface NotifyContext {
  messageIdDomain: string;
  publicUrl: string;
}

export function notifyContext(config: Pick<Config, 'mailFrom' | 'publicUrl'>): NotifyContext {
  return { messageIdDomain: senderDomain(config.mailFrom), publicUrl: config.publicUrl };
}

export async function partnerOwnerAddresses(db: DbOrTx, partnerId: string): Promise<string[]> {
  const rows = await db
    .select({ email: users.email })
    .from(staffAccess)
    .innerJoin(users, eq(users.id, staffAccess.userId))
    .where(and(eq(staffAccess.partnerId, partnerId), eq(staffAccess.isOwner, true)));
  return rows.map((r) => r.email);
}

/** A client's global admin: where its emails (and an amendment's personal link) go. */
export interface ClientAdmin {
  userId: string;
  email: string;
}

/** The global admins of a client organization (addresses are unique across users). */
export async function clientAdmins(db: DbOrTx, orgId: string): Promise<ClientAdmin[]> {
  return db
    .select({ userId: users.id, email: users.email })
    .from(users)
    .where(and(eq(users.orgId, orgId), eq(users.isGlobalAdmin, true)))
    .orderBy(users.id);
}

async function clientAdminAddresses(db: DbOrTx, orgId: string): Promise<string[]> {
  return (await clientAdmins(db, orgId)).map((a) => a.email);
}

interface Parties extends DelegationFacts {
  delegationId: string;
  partnerId: string;
  clientOrgId: string | null;
  recipientEmail: string | null;
}

/** Names and terms of a delegation, for the emails about it. */
async function loadParties(db: DbOrTx, delegationId: string): Promise<Parties> {
  const partner = sql`(select name from ${organizations} where id = ${delegations.partnerId})`;
  const client = sql`(select name from ${organizations} where id = ${delegations.clientOrgId})`;
  const [row] = await db
    .select({
      partnerId: delegations.partnerId,
      clientOrgId: delegations.clientOrgId,
      recipientEmail: delegations.recipientEmail,
      recipientCompany: delegations.recipientCompany,
      roles: delegations.roles,
      endsAt: delegations.endsAt,
      autoExtend: delegations.autoExtend,
      partnerName: sql<string>`${partner}`,
      clientName: sql<string | null>`${client}`,
    })
    .from(delegations)
    .where(eq(delegations.id, delegationId));
  if (!row) throw new Error(`delegation ${delegationId} not found`);
  return {
    delegationId,
    partnerId: row.partnerId,
    clientOrgId: row.clientOrgId,
    recipientEmail: row.recipientEmail,
    partnerName: row.partnerName,
    clientName: row.clientName ?? row.recipientCompany ?? row.recipientEmail ?? 'your client',
    roles: sortRoles(row.roles),
    endsAt: row.endsAt ? new Date(row.endsAt) : new Date(),
    autoExtend: row.autoExtend,
  };
}

function toEach(
  addresses: string[],
  key: string,
  kind: string,
  delegationId: string,
  content: NewEmail['content'],
  links?: NewEmail['links'],
): NewEmail[] {
  return [...new Set(addresses.map((a) => a.toLowerCase()))].map((toEmail) => ({
    dedupeKey: `${key}.${toEmail}`,
    kind,
    delegationId,
    toEmail,
    content,
    links,
  }));
}

/**
 * Acceptance: the partner's owners are told which roles were granted (and which optional
 * ones were left out), the admin who accepted gets a receipt with the end link.
 */
export async function notifyAccepted(
  db: DbOrTx,
  ctx: NotifyContext,
  delegationId: string,
  acceptedBy: string,
  leftOut: readonly Role[] = [],
) {
  const p = await loadParties(db, delegationId);
  const end = endLinkPlaceholder(delegationId);
  return recordEmails(db, ctx.messageIdDomain, [
    ...toEach(
      await partnerOwnerAddresses(db, p.partnerId),
      `accepted.${delegationId}`,
      'accepted',
      delegationId,
      acceptedForPartner(p, acceptedBy, leftOut),
    ),
    ...toEach(
      [acceptedBy],
      `receipt.${delegationId}`,
      'receipt',
      delegationId,
      receiptForClient(p, `${ctx.publicUrl}/org/delegations`, end.placeholder),
      end.links,
    ),
  ]);
}

/** A decline: the partner's owners are told, once (the dedupe key is the delegation's). */
export async function notifyDeclined(db: DbOrTx, ctx: NotifyContext, delegationId: string, declinedBy: string) {
  const p = await loadParties(db, delegationId);
  return recordEmails(
    db,
    ctx.messageIdDomain,
    toEach(
      await partnerOwnerAddresses(db, p.partnerId),
      `declined.${delegationId}`,
      'declined',
      delegationId,
      declinedForPartner(p, declinedBy, `${ctx.publicUrl}/dashboard/delegations/${delegationId}`),
    ),
  );
}

/** Termination: both sides (the client's global admins, or the invited address before acceptance). */
export async function notifyTerminated(db: DbOrTx, ctx: NotifyContext, delegationId: string, endedBy: string) {
  const p = await loadParties(db, delegationId);
  const clientSide = p.clientOrgId
    ? await clientAdminAddresses(db, p.clientOrgId)
    : p.recipientEmail
      ? [p.recipientEmail]
      : [];
  const end = endLinkPlaceholder(delegationId);
  return recordEmails(db, ctx.messageIdDomain, [
    ...toEach(
      await partnerOwnerAddresses(db, p.partnerId),
      `terminated.${delegationId}`,
      'terminated',
      delegationId,
      terminatedNotice(p, endedBy),
    ),
    ...toEach(
      clientSide,
      `terminated.${delegationId}`,
      'terminated',
      delegationId,
      terminatedNotice(p, endedBy, end.placeholder),
      end.links,
    ),
  ]);
}

/**
 * One notice to both sides: the partner's owners get `render()`, the client's global admins
 * `render(endUrl)` — the only copy with the end link. An address on both sides keeps the
 * partner's (one email per key and address).
 */
async function toBothSides(
  db: DbOrTx,
  p: Parties,
  key: string,
  kind: string,
  render: (endUrl?: string) => NewEmail['content'],
): Promise<NewEmail[]> {
  const partner = await partnerOwnerAddresses(db, p.partnerId);
  const owners = new Set(partner.map((a) => a.toLowerCase()));
  const client = (p.clientOrgId ? await clientAdminAddresses(db, p.clientOrgId) : []).filter(
    (a) => !owners.has(a.toLowerCase()),
  );
  const end = endLinkPlaceholder(p.delegationId);
  return [
    ...toEach(partner, key, kind, p.delegationId, render()),
    ...toEach(client, key, kind, p.delegationId, render(end.placeholder), end.links),
  ];
}

/** An expiry notice (30, 7 or 1 day before the end) to both sides. */
export async function notifyExpiry(
  db: DbOrTx,
  ctx: NotifyContext,
  delegationId: string,
  thresholdDays: number,
  daysLeft: number,
) {
  const p = await loadParties(db, delegationId);
  const key = `expiry.${thresholdDays}.${delegationId}.${p.endsAt.toISOString()}`;
  const daysShown = Math.max(1, daysLeft);
  return recordEmails(
    db,
    ctx.messageIdDomain,
    await toBothSides(db, p, key, 'expiry-notice', (endUrl) => expiryNotice(p, daysShown, endUrl)),
  );
}

/** The end was reached: both sides are told. */
export async function notifyExpired(db: DbOrTx, ctx: NotifyContext, delegationId: string) {
  const p = await loadParties(db, delegationId);
  return recordEmails(
    db,
    ctx.messageIdDomain,
    await toBothSides(db, p, `expired.${delegationId}`, 'expired', (endUrl) => expiredNotice(p, endUrl)),
  );
}

/**
 * An account's wrong passwords reached the account-wide limit: its owners are told — for
 * a partner's staff member, the partner's owners (who manage that account); for a client's
 * user, that user. `windowKey` names the limit's window, so a repeat in one window is a
 * no-op (the caller also asks only once per window).
 */
export async function notifySignInLockout(
  db: DbOrTx,
  ctx: NotifyContext,
  input: {
    userId: string;
    windowKey: string;
    failures: number;
    windowMinutes: number;
    addresses: number;
    held: boolean;
    heldMinutes: number;
  },
) {
  const [user] = await db
    .select({ email: users.email, orgId: users.orgId, kind: organizations.kind })
    .from(users)
    .innerJoin(organizations, eq(organizations.id, users.orgId))
    .where(eq(users.id, input.userId));
  if (!user) return [];
  const to = user.kind === 'partner' ? await partnerOwnerAddresses(db, user.orgId) : [user.email];
  const content = signInLockoutNotice({
    accountEmail: user.email,
    failures: input.failures,
    windowMinutes: input.windowMinutes,
    addresses: input.addresses,
    held: input.held,
    heldMinutes: input.heldMinutes,
    twoFactorUrl: `${ctx.publicUrl}/account/two-factor`,
  });
  return recordEmails(
    db,
    ctx.messageIdDomain,
    [...new Set(to.map((a) => a.toLowerCase()))].map((toEmail) => ({
      dedupeKey: `sign-in-lockout.${input.userId}.${input.windowKey}.${toEmail}`,
      kind: 'sign-in-lockout',
      toEmail,
      content,
    })),
  );
}

/**
 * The account's second factors changed: the account itself is told (whoever did it, it
 * was done in a session of theirs). `eventKey` names the change (the factor's
 * id and what happened to it), so a retried transaction records one email.
 */
export async function notifySecondFactorChange(
  db: DbOrTx,
  ctx: NotifyContext,
  input: { userId: string; change: SecondFactorChange; passkeyName?: string | undefined; eventKey: string },
) {
  const [user] = await db.select({ email: users.email }).from(users).where(eq(users.id, input.userId));
  if (!user) return [];
  const content = secondFactorChangeNotice({
    accountEmail: user.email,
    change: input.change,
    passkeyName: input.passkeyName,
    sessionsUrl: `${ctx.publicUrl}/account/sessions`,
  });
  return recordEmails(db, ctx.messageIdDomain, [
    { dedupeKey: `second-factor.${input.eventKey}`, kind: 'second-factor-change', toEmail: user.email, content },
  ]);
}

/** A staff member's account was linked to an identity at their partner's provider: they are told. */
export async function notifySsoLink(
  db: DbOrTx,
  ctx: NotifyContext,
  input: { userId: string; issuer: string; eventKey: string },
) {
  const [user] = await db.select({ email: users.email }).from(users).where(eq(users.id, input.userId));
  if (!user) return [];
  const content = ssoLinkNotice({
    accountEmail: user.email,
    issuer: input.issuer,
    sessionsUrl: `${ctx.publicUrl}/account/sessions`,
  });
  return recordEmails(db, ctx.messageIdDomain, [
    { dedupeKey: `sso-link.${input.eventKey}`, kind: 'sso-link', toEmail: user.email, content },
  ]);
}

/**
 * A partner's staff member reset a client user's password (a `reset_password` operation):
 * the user is told who did it. One email per operation (`password-reset.<operationId>`),
 * however often its job runs; record it in the transaction that sets the password.
 */
export async function notifyPasswordReset(
  db: DbOrTx,
  ctx: NotifyContext,
  input: { operationId: string; userId: string; requestedBy: string; partnerId: string; orgName: string },
) {
  const staff = sql<string | null>`(select display_name from ${users} where id = ${input.requestedBy})`;
  const staffEmail = sql<string | null>`(select email from ${users} where id = ${input.requestedBy})`;
  const partner = sql<string | null>`(select name from ${organizations} where id = ${input.partnerId})`;
  const [row] = await db
    .select({
      email: users.email,
      staffName: sql<string | null>`${staff}`,
      staffEmail: sql<string | null>`${staffEmail}`,
      partnerName: sql<string | null>`${partner}`,
    })
    .from(users)
    .where(eq(users.id, input.userId));
  if (!row) return [];
  return recordEmails(db, ctx.messageIdDomain, [
    {
      dedupeKey: `password-reset.${input.operationId}`,
      kind: 'password-reset',
      toEmail: row.email,
      content: passwordResetNotice({
        accountEmail: row.email,
        orgName: input.orgName,
        staffName: row.staffName ?? 'a staff member',
        staffEmail: row.staffEmail ?? 'address unknown',
        partnerName: row.partnerName ?? 'your partner',
        signInUrl: `${ctx.publicUrl}/sign-in`,
      }),
    },
  ]);
}
