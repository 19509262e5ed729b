import { and, eq, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import {
  classifyCallbackError,
  emailDomainOf,
  isLoopbackHttp,
  SSO_SIGN_IN_SECONDS,
  type SsoRefusal,
  ssoRedirectUri,
} from '../../core/single-sign-on.ts';
import type { DbOrTx } from '../../db/client.ts';
import { organizations, ssoLinks, ssoProviders, ssoSignIns, staffAccess, users } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { finishAuthorization, startAuthorization, type VerifiedIdentity } from '../../lib/openid-connect.ts';
import { openSecret, sealSecret } from '../../lib/secret-box.ts';
import { randomToken, sha256Hex } from '../../lib/secrets.ts';
import { recordAudit } from '../audit/record.ts';
import { notifyContext, notifySsoLink } from '../mail/notifications.ts';
import { enqueueEmails } from '../mail/outbox.ts';
import { userEmailIs } from '../shared/users.ts';
import { hasSecondFactor } from './second-factor.ts';
import { ssoClientSecretContext } from './single-sign-on-settings.ts';

const tokenShape = /^[A-Za-z0-9_-]{43}$/;

/** What sealed a sign-in's verifier and `next` are bound to. */
const signInContext = (id: string) => `sso-sign-in:${id}`;

/** How long a used or expired sign-in is kept, so a replay is recognised (and recorded). */
const KEEP_SECONDS = 24 * 3600;

/**
 * Starts single sign-on for an address: finds the enabled provider of the partner whose
 * domain it is, remembers the sign-in (state, nonce, PKCE verifier, `next`) under a new
 * cookie token, and returns where to send the browser — the provider, with the address as
 * `login_hint`. No account is looked up, so the answer says nothing of whether one exists.
 * Counted per client address (RATE_LIMITED).
 */
export async function startSsoSignIn(
  deps: Pick<Deps, 'db' | 'config' | 'rateLimits'>,
  input: { email: string; next: string; clientAddress: string },
): Promise<{ ok: true; token: string; location: string } | { ok: false }> {
  await deps.rateLimits.consume('ssoStartPerIp', input.clientAddress);
  const domain = emailDomainOf(input.email);
  if (!domain) return { ok: false };
  const [provider] = await deps.db
    .select()
    .from(ssoProviders)
    .where(
      and(
        sql`lower(${ssoProviders.emailDomain}) = ${domain}`,
        eq(ssoProviders.enabled, true),
        isNotNull(ssoProviders.domainVerifiedAt),
      ),
    );
  if (!provider) return { ok: false };

  const started = await startAuthorization(
    {
      serverMetadata: provider.serverMetadata,
      clientId: provider.clientId,
      // The authorization request does not authenticate the client.
      clientSecret: null,
      allowHttp: isLoopbackHttp(provider.issuer),
    },
    { redirectUri: ssoRedirectUri(deps.config.publicUrl), loginHint: input.email },
  );
  const token = randomToken(32);
  const id = sha256Hex(token);
  // Old rows go now; nothing else sweeps this table, and it stays small.
  await deps.db.delete(ssoSignIns).where(lt(ssoSignIns.expiresAt, sql`now() - make_interval(secs => ${KEEP_SECONDS})`));
  await deps.db.insert(ssoSignIns).values({
    id,
    providerId: provider.id,
    state: started.state,
    nonce: started.nonce,
    sealed: sealSecret(
      deps.config.linkSecret,
      JSON.stringify({ codeVerifier: started.codeVerifier, next: input.next }),
      signInContext(id),
    ),
    expiresAt: sql`now() + make_interval(secs => ${SSO_SIGN_IN_SECONDS})`,
  });
  return { ok: true, token, location: started.url.href };
}

export type SsoCallbackResult =
  | { ok: true; userId: string; hasSecondFactor: boolean; next: string }
  | { ok: false; reason: SsoRefusal; partnerName?: string };

type Provider = typeof ssoProviders.$inferSelect & { partnerName: string };

/**
 * The provider's answer, at the callback: takes the sign-in behind the cookie's token (once:
 * a second callback with it is a replay), checks it with the provider (state, `iss`, PKCE,
 * the ID token and its nonce) and finds the staff account — by an earlier link of this
 * issuer and subject, or else, the first time, by address: only a staff member of that
 * partner, only when the provider says the address is verified and it is at the configured
 * domain; the link is then recorded. Every refusal changes nothing but the audit trail (when
 * a partner is known) and is an answer, not a throw.
 */
export async function finishSsoSignIn(
  deps: Pick<Deps, 'db' | 'config' | 'logger' | 'queues'>,
  input: { token: string | undefined; callbackUrl: URL; requestId?: string | undefined },
): Promise<SsoCallbackResult> {
  const { db } = deps;
  if (!input.token || !tokenShape.test(input.token)) return { ok: false, reason: 'unknown_sign_in' };
  const id = sha256Hex(input.token);
  const [taken] = await db
    .update(ssoSignIns)
    .set({ usedAt: sql`now()` })
    .where(and(eq(ssoSignIns.id, id), isNull(ssoSignIns.usedAt)))
    .returning({
      providerId: ssoSignIns.providerId,
      state: ssoSignIns.state,
      nonce: ssoSignIns.nonce,
      sealed: ssoSignIns.sealed,
      live: sql<boolean>`${ssoSignIns.expiresAt} > now()`,
    });
  const providerId =
    taken?.providerId ??
    (await db.select({ providerId: ssoSignIns.providerId }).from(ssoSignIns).where(eq(ssoSignIns.id, id)))[0]
      ?.providerId;
  if (!providerId) return { ok: false, reason: 'unknown_sign_in' };
  const [provider] = await db
    .select({ provider: ssoProviders, partnerName: organizations.name })
    .from(ssoProviders)
    .innerJoin(organizations, eq(organizations.id, ssoProviders.partnerId))
    .where(eq(ssoProviders.id, providerId));
  if (!provider) return { ok: false, reason: 'unknown_sign_in' };
  const p: Provider = { ...provider.provider, partnerName: provider.partnerName };
  const refuse = async (reason: SsoRefusal, detail: Record<string, unknown> = {}): Promise<SsoCallbackResult> => {
    await recordPartnerRefusal(db, p, reason, detail, input.requestId);
    return { ok: false, reason, partnerName: p.partnerName };
  };

  if (!taken) return refuse('replayed');
  if (!taken.live) return refuse('expired');
  // Off, or its domain no longer proven (changed since the start): refused alike.
  if (!p.enabled || !p.domainVerifiedAt) return refuse('provider_disabled');
  const opened = openSecret(deps.config.linkSecret, taken.sealed, signInContext(id));
  const clientSecret = openSecret(deps.config.linkSecret, p.clientSecretSealed, ssoClientSecretContext(p.id));
  if (!opened || !clientSecret) return refuse('invalid_response', { error: 'sealed values do not open' });
  const kept = JSON.parse(opened) as { codeVerifier: string; next: string };

  let identity: VerifiedIdentity;
  try {
    identity = await finishAuthorization(
      { serverMetadata: p.serverMetadata, clientId: p.clientId, clientSecret, allowHttp: isLoopbackHttp(p.issuer) },
      input.callbackUrl,
      { state: taken.state, nonce: taken.nonce, codeVerifier: kept.codeVerifier },
    );
  } catch (error) {
    const reason = classifyCallbackError(error);
    const message = error instanceof Error ? error.message : String(error);
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : undefined;
    deps.logger.info({ reason, err: message, cause }, 'single sign-on callback refused');
    return refuse(reason, { error: cause ? `${message}: ${cause}` : message });
  }
  const seen = { subject: identity.subject, email: identity.email };
  // The library compared `iss` with the configured issuer; a second look costs nothing.
  if (identity.issuer !== p.issuer) return refuse('issuer_mismatch', seen);

  const account = await accountOf(deps, p, identity, input.requestId);
  if (!account.ok) return refuse(account.reason, { ...seen, ...account.detail });
  return {
    ok: true,
    userId: account.userId,
    hasSecondFactor: await hasSecondFactor(db, account.userId),
    next: kept.next,
  };
}

type AccountResult = { ok: true; userId: string } | { ok: false; reason: SsoRefusal; detail?: Record<string, unknown> };

/**
 * The staff account a verified identity signs in to: by its link, or — the first time — by
 * its address, under every condition for a link (verified, at the domain, staff of this
 * partner), recording the link. The sign-in (and a new link) is recorded with it.
 */
async function accountOf(
  deps: Pick<Deps, 'db' | 'config' | 'queues' | 'logger'>,
  p: Provider,
  identity: VerifiedIdentity,
  requestId: string | undefined,
): Promise<AccountResult> {
  const { db } = deps;
  const seen = { subject: identity.subject, email: identity.email };
  const link = await findLink(db, p, identity);
  if (link && !link.isStaff) return { ok: false, reason: 'no_account', detail: { linkedUserId: link.userId } };
  if (link) {
    await db.transaction(async (tx) => {
      await tx
        .update(ssoLinks)
        .set({ lastSignInAt: sql`now()` })
        .where(and(eq(ssoLinks.issuer, identity.issuer), eq(ssoLinks.subject, identity.subject)));
      await recordSignIn(tx, p, link.userId, { ...seen, firstLink: false }, requestId);
    });
    return { ok: true, userId: link.userId };
  }

  if (!identity.email) return { ok: false, reason: 'no_email' };
  if (!identity.emailVerified) return { ok: false, reason: 'email_unverified' };
  if (emailDomainOf(identity.email) !== p.emailDomain.toLowerCase()) return { ok: false, reason: 'domain_mismatch' };
  const [staff] = await db
    .select({ userId: users.id })
    .from(users)
    .innerJoin(staffAccess, and(eq(staffAccess.userId, users.id), eq(staffAccess.partnerId, p.partnerId)))
    .where(and(userEmailIs(identity.email), eq(users.orgId, p.partnerId)));
  if (!staff) return { ok: false, reason: 'no_account' };
  const linked = await db.transaction(async (tx): Promise<false | { emailIds: string[] }> => {
    const [made] = await tx
      .insert(ssoLinks)
      .values({ providerId: p.id, issuer: identity.issuer, subject: identity.subject, userId: staff.userId })
      .onConflictDoNothing()
      .returning({ userId: ssoLinks.userId });
    if (!made) {
      // A parallel callback of the same identity linked it first: fine if to the same account.
      const [other] = await tx
        .select({ userId: ssoLinks.userId })
        .from(ssoLinks)
        .where(and(eq(ssoLinks.issuer, identity.issuer), eq(ssoLinks.subject, identity.subject)));
      if (other?.userId !== staff.userId) return false;
    }
    let emailIds: string[] = [];
    if (made) {
      await recordAudit(tx, {
        actorUserId: staff.userId,
        partnerId: p.partnerId,
        orgId: p.partnerId,
        action: 'sso.link',
        targetType: 'user',
        targetId: staff.userId,
        outcome: 'succeeded',
        requestId,
        detail: { issuer: identity.issuer, ...seen },
      });
      // The account is told: a link made by someone else's provider would otherwise go unseen.
      emailIds = await notifySsoLink(tx, notifyContext(deps.config), {
        userId: staff.userId,
        issuer: identity.issuer,
        eventKey: `${identity.issuer}|${identity.subject}`,
      });
    }
    await recordSignIn(tx, p, staff.userId, { ...seen, firstLink: Boolean(made) }, requestId);
    return { emailIds };
  });
  if (!linked) return { ok: false, reason: 'no_account' };
  await enqueueEmails(deps, linked.emailIds);
  return { ok: true, userId: staff.userId };
}

/**
 * The account an earlier link of this identity points at, and whether it is still staff of
 * this partner (a link never moves to another account, even one with the same address).
 */
async function findLink(
  db: DbOrTx,
  p: Provider,
  identity: VerifiedIdentity,
): Promise<{ userId: string; isStaff: boolean } | null> {
  const [row] = await db
    .select({ userId: ssoLinks.userId, staff: staffAccess.userId })
    .from(ssoLinks)
    .leftJoin(staffAccess, and(eq(staffAccess.userId, ssoLinks.userId), eq(staffAccess.partnerId, p.partnerId)))
    .where(and(eq(ssoLinks.issuer, identity.issuer), eq(ssoLinks.subject, identity.subject)));
  return row ? { userId: row.userId, isStaff: row.staff !== null } : null;
}

async function recordSignIn(
  db: DbOrTx,
  p: Provider,
  userId: string,
  detail: Record<string, unknown>,
  requestId: string | undefined,
): Promise<void> {
  await recordAudit(db, {
    actorUserId: userId,
    partnerId: p.partnerId,
    orgId: p.partnerId,
    action: 'sso.sign_in',
    targetType: 'user',
    targetId: userId,
    outcome: 'succeeded',
    requestId,
    detail: { providerId: p.id, ...detail },
  });
}

/** A refused callback, in the partner's trail (no user is known, or none is trusted yet). */
async function recordPartnerRefusal(
  db: DbOrTx,
  p: Provider,
  reason: SsoRefusal,
  detail: Record<string, unknown>,
  requestId: string | undefined,
): Promise<void> {
  await recordAudit(db, {
    actorUserId: null,
    partnerId: p.partnerId,
    orgId: p.partnerId,
    action: 'sso.sign_in',
    targetType: 'sso_provider',
    targetId: p.id,
    outcome: 'rejected',
    requestId,
    detail: { reason, ...detail },
  });
}
