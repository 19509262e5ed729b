import { inArray } from 'drizzle-orm';
import type { AmendmentChange, DelegationTerms } from '../../core/amendment-rules.ts';
import { changedLines, describeChange } from '../../core/amendment-words.ts';
import {
  type AmendmentParties,
  amendmentAnsweredNotice,
  amendmentExpiredForPartner,
  amendmentProposedForClient,
  amendmentReducedForClient,
} from '../../core/emails/amendments.ts';
import type { DbOrTx } from '../../db/client.ts';
import { type Amendment, organizations } from '../../db/schema/index.ts';
import { endLinkPlaceholder, linkPlaceholder } from './derived-links.ts';
import { type ClientAdmin, clientAdmins, type NotifyContext, partnerOwnerAddresses } from './notifications.ts';
import { type NewEmail, recordEmails } from './outbox.ts';

async function parties(db: DbOrTx, a: Amendment): Promise<AmendmentParties> {
  const rows = await db
    .select({ id: organizations.id, name: organizations.name })
    .from(organizations)
    .where(inArray(organizations.id, [a.partnerId, a.clientOrgId]));
  const name = (id: string) => rows.find((r) => r.id === id)?.name ?? '';
  return { partnerName: name(a.partnerId), clientName: name(a.clientOrgId) };
}

const terms = (stored: Amendment['before']): DelegationTerms => ({ ...stored, endsAt: new Date(stored.endsAt) });

export function changeOf(a: Amendment): AmendmentChange {
  return { addRoles: a.addRoles, removeRoles: a.removeRoles, extendDays: a.extendDays, autoExtend: a.autoExtend };
}

/** The change in plain words: what it does, then each line of the terms before → after. */
function changeWords(a: Amendment): string[] {
  return [...describeChange(changeOf(a)), ...changedLines(terms(a.before), terms(a.after))];
}

/** One email per address, keyed so that recording the same notice again is a no-op. */
function each(
  a: Amendment,
  kind: string,
  addresses: string[],
  message: (to: string) => Pick<NewEmail, 'content' | 'links'>,
): NewEmail[] {
  return [...new Set(addresses.map((x) => x.toLowerCase()))].map((toEmail) => ({
    dedupeKey: `${kind}.${a.id}.${toEmail}`,
    kind,
    delegationId: a.delegationId,
    toEmail,
    ...message(toEmail),
  }));
}

/** A reduction applied: the client's admins are told (nothing is asked of them). */
export async function notifyAmendmentReduced(db: DbOrTx, ctx: NotifyContext, a: Amendment): Promise<string[]> {
  const p = await parties(db, a);
  const admins = (await clientAdmins(db, a.clientOrgId)).map((x) => x.email);
  const end = endLinkPlaceholder(a.delegationId);
  const content = amendmentReducedForClient(p, changeWords(a), {
    manageUrl: `${ctx.publicUrl}/org/delegations`,
    endUrl: end.placeholder,
  });
  return recordEmails(
    db,
    ctx.messageIdDomain,
    each(a, 'amendment-reduced', admins, () => ({ content, links: end.links })),
  );
}

/**
 * An addition proposed: each of the client's admins (`admins`, whose links are recorded in
 * `amendment_links`) gets the email with their own link, derived when it is sent.
 */
export async function notifyAmendmentProposed(
  db: DbOrTx,
  ctx: NotifyContext,
  a: Amendment,
  admins: ClientAdmin[],
): Promise<string[]> {
  const p = await parties(db, a);
  const words = changeWords(a);
  const userIds = new Map(admins.map((admin) => [admin.email.toLowerCase(), admin.userId]));
  const answerBy = a.expiresAt ?? new Date();
  const end = endLinkPlaceholder(a.delegationId);
  return recordEmails(
    db,
    ctx.messageIdDomain,
    each(a, 'amendment-proposed', [...userIds.keys()], (to) => {
      const review = linkPlaceholder({ kind: 'amendment', amendmentId: a.id, userId: userIds.get(to) as string });
      return {
        content: amendmentProposedForClient(p, words, {
          reviewUrl: review.placeholder,
          endUrl: end.placeholder,
          answerBy,
        }),
        links: { ...review.links, ...end.links },
      };
    }),
  );
}

/** The client answered: the partner's owners and the client's admins are told. */
export async function notifyAmendmentAnswered(
  db: DbOrTx,
  ctx: NotifyContext,
  a: Amendment,
  answer: 'accepted' | 'declined',
  answeredBy: string,
): Promise<string[]> {
  const p = await parties(db, a);
  const words = changeWords(a);
  const kind = `amendment-${answer}`;
  const partnerCopy = amendmentAnsweredNotice(p, answer, answeredBy, words);
  const end = endLinkPlaceholder(a.delegationId);
  const clientCopy = amendmentAnsweredNotice(p, answer, answeredBy, words, end.placeholder);
  const admins = (await clientAdmins(db, a.clientOrgId)).map((x) => x.email);
  return recordEmails(db, ctx.messageIdDomain, [
    ...each(a, kind, await partnerOwnerAddresses(db, a.partnerId), () => ({ content: partnerCopy })),
    ...each(a, kind, admins, () => ({ content: clientCopy, links: end.links })),
  ]);
}

/** Nobody answered in time: the partner's owners are told (the client chose to say nothing). */
export async function notifyAmendmentExpired(db: DbOrTx, ctx: NotifyContext, a: Amendment): Promise<string[]> {
  const p = await parties(db, a);
  const content = amendmentExpiredForPartner(p, changeWords(a));
  return recordEmails(
    db,
    ctx.messageIdDomain,
    each(a, 'amendment-expired', await partnerOwnerAddresses(db, a.partnerId), () => ({ content })),
  );
}
