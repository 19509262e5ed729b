import { and, eq, sql } from 'drizzle-orm';
import { normalizeDomainName } from '../../core/domain-names.ts';
import type { FieldIssue } from '../../core/errors.ts';
import { AppError } from '../../core/errors.ts';
import { newId } from '../../core/ids.ts';
import {
  checkIssuerUrl,
  ssoDomainRecordName,
  ssoDomainRecordValue,
  ssoRedirectUri,
} from '../../core/single-sign-on.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import { ssoProviders } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { createTxtLookup } from '../../lib/dns.ts';
import { discoverIssuer } from '../../lib/openid-connect.ts';
import { nonPublicHostReason } from '../../lib/public-address.ts';
import { openSecret, sealSecret } from '../../lib/secret-box.ts';
import { ssoDomainToken } from '../../lib/secrets.ts';
import { recordAudit } from '../audit/record.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';

/** What sealed a provider's client secret is bound to (lib/secret-box.ts). */
export const ssoClientSecretContext = (providerId: string) => `sso-client-secret:${providerId}`;

/** A partner's single sign-on as its owners see it: never the secret itself. */
export interface SsoSettingsView {
  /** The redirect URI to register at the provider. */
  redirectUri: string;
  provider: {
    issuer: string;
    clientId: string;
    emailDomain: string;
    enabled: boolean;
    /** False when the saved secret no longer opens (LINK_SECRET changed): enter it again. */
    secretReadable: boolean;
    updatedAt: Date;
    /** The TXT record that proves the domain, and when it was found (null: not yet). */
    domainProof: { name: string; value: string; verifiedAt: Date | null };
  } | null;
}

function assertOwner(principal: PartnerPrincipal): void {
  if (!principal.isOwner) throw new AppError('NOT_AUTHORIZED', "Only the partner's owners set up single sign-on");
}

/** Refuses (422) when any of these URLs is not https on a public address. */
async function refuseNonPublic(urls: string[]): Promise<void> {
  for (const raw of urls) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      url = new URL('invalid:');
    }
    const reason =
      url.protocol === 'https:' ? await nonPublicHostReason(url.hostname) : `${raw} is not an https address`;
    if (reason) {
      throw new AppError('VALIDATION_FAILED', `The identity provider cannot be used: ${reason}.`, {
        issues: [{ path: 'issuer', message: reason }],
      });
    }
  }
}

const domainRecordValue = (linkSecret: string, providerId: string, domain: string) =>
  ssoDomainRecordValue(ssoDomainToken(linkSecret, providerId, domain));

/** The partner's single sign-on settings (owners only). */
export async function readSsoSettings(
  deps: Pick<Deps, 'db' | 'config'>,
  principal: PartnerPrincipal,
): Promise<SsoSettingsView> {
  assertOwner(principal);
  const [row] = await deps.db.select().from(ssoProviders).where(eq(ssoProviders.partnerId, principal.partnerId));
  return {
    redirectUri: ssoRedirectUri(deps.config.publicUrl),
    provider: row
      ? {
          issuer: row.issuer,
          clientId: row.clientId,
          emailDomain: row.emailDomain,
          enabled: row.enabled,
          secretReadable:
            openSecret(deps.config.linkSecret, row.clientSecretSealed, ssoClientSecretContext(row.id)) !== null,
          updatedAt: row.updatedAt,
          domainProof: {
            name: ssoDomainRecordName(row.emailDomain),
            value: domainRecordValue(deps.config.linkSecret, row.id, row.emailDomain),
            verifiedAt: row.domainVerifiedAt,
          },
        }
      : null,
  };
}

export interface SaveSsoInput {
  issuer: string;
  clientId: string;
  /** Empty: keep the saved one (required the first time). */
  clientSecret: string;
  emailDomain: string;
}

/**
 * Saves the partner's identity provider (owners only): checks the fields, fetches the
 * issuer's discovery document (a clear error when it cannot), seals the secret, and records
 * the change. A first save turns single sign-on on; a later one keeps it on or off.
 */
export async function saveSsoSettings(
  deps: Pick<Deps, 'db' | 'config'>,
  principal: PartnerPrincipal,
  input: SaveSsoInput,
  requestId?: string,
): Promise<void> {
  assertOwner(principal);
  const issues: FieldIssue[] = [];
  const issuer = checkIssuerUrl(input.issuer, { allowLoopbackHttp: deps.config.env !== 'production' });
  if ('reason' in issuer) issues.push({ path: 'issuer', message: `The issuer URL ${issuer.reason}.` });
  const clientId = input.clientId.trim();
  if (clientId === '' || clientId.length > 255)
    issues.push({ path: 'clientId', message: 'Enter the client ID the provider gave (at most 255 characters).' });
  const clientSecret = input.clientSecret.trim();
  if (clientSecret.length > 1000) issues.push({ path: 'clientSecret', message: 'The client secret is too long.' });
  const domain = normalizeDomainName(input.emailDomain.replace(/^@/, ''));
  if ('reason' in domain) issues.push({ path: 'emailDomain', message: `The email domain ${domain.reason}.` });
  if (issues.length > 0 || 'reason' in issuer || 'reason' in domain) {
    throw new AppError('VALIDATION_FAILED', issues.map((i) => i.message).join(' '), { issues });
  }

  // In production the server fetches only public addresses: an owner must not make it probe
  // its own network (the issuer now, its endpoints at every sign-in).
  const production = deps.config.env === 'production';
  if (production) await refuseNonPublic([issuer.url.href]);
  let serverMetadata: Record<string, unknown>;
  try {
    serverMetadata = await discoverIssuer(issuer.url, clientId, issuer.insecureLoopback);
  } catch (error) {
    // In production the library's words (reachable or not, what answered) are not passed on.
    const why = production ? 'no discovery document' : error instanceof Error ? error.message : String(error);
    throw new AppError(
      'VALIDATION_FAILED',
      `Could not read the OpenID Connect discovery document of ${issuer.url.href} (${why}). Check the issuer URL.`,
      { issues: [{ path: 'issuer', message: `Discovery failed: ${why}` }] },
    );
  }

  if (production) {
    const endpoints = ['token_endpoint', 'jwks_uri', 'userinfo_endpoint'].map((k) => serverMetadata[k]);
    await refuseNonPublic(endpoints.filter((e): e is string => typeof e === 'string'));
  }

  try {
    await deps.db.transaction(async (tx) => {
      const [existing] = await tx
        .select({ id: ssoProviders.id, enabled: ssoProviders.enabled, emailDomain: ssoProviders.emailDomain })
        .from(ssoProviders)
        .where(eq(ssoProviders.partnerId, principal.partnerId))
        .for('update');
      if (!existing && clientSecret === '') {
        throw new AppError('VALIDATION_FAILED', 'Enter the client secret the provider gave.', {
          issues: [{ path: 'clientSecret', message: 'Required the first time.' }],
        });
      }
      const id = existing?.id ?? newId('ssoProvider');
      const fields = {
        // As discovery returned it: the ID token's `iss` is compared with this.
        issuer: String(serverMetadata.issuer),
        clientId,
        emailDomain: domain.name,
        // Another domain is a new claim: proven again before any sign-in uses it.
        ...(existing?.emailDomain.toLowerCase() === domain.name ? {} : { domainVerifiedAt: null }),
        serverMetadata,
        updatedBy: principal.userId,
        updatedAt: sql`now()`,
        ...(clientSecret
          ? { clientSecretSealed: sealSecret(deps.config.linkSecret, clientSecret, ssoClientSecretContext(id)) }
          : {}),
      };
      if (existing) await tx.update(ssoProviders).set(fields).where(eq(ssoProviders.id, id));
      else
        await tx.insert(ssoProviders).values({
          id,
          partnerId: principal.partnerId,
          clientSecretSealed: '',
          ...fields,
        });
      await recordAudit(tx, {
        actorUserId: principal.userId,
        partnerId: principal.partnerId,
        orgId: principal.partnerId,
        action: 'sso.configure',
        targetType: 'sso_provider',
        targetId: id,
        outcome: 'succeeded',
        requestId,
        detail: {
          issuer: fields.issuer,
          clientId,
          emailDomain: domain.name,
          secretChanged: clientSecret !== '',
          enabled: existing?.enabled ?? true,
        },
      });
    });
  } catch (error) {
    if (isUniqueViolation(error, 'sso_providers_domain_unique')) {
      throw new AppError(
        'CONFLICT',
        `Another partner already signs in its staff at ${domain.name} through single sign-on.`,
      );
    }
    throw error;
  }
}

/**
 * Turns the partner's single sign-on on or off (owners only). Needs no trip to the
 * provider: turning it off must work when the provider is down or compromised. Off, every
 * start and every callback — even of a sign-in started before — is refused.
 */
export async function setSsoEnabled(
  deps: Pick<Deps, 'db'>,
  principal: PartnerPrincipal,
  enabled: boolean,
  requestId?: string,
): Promise<void> {
  assertOwner(principal);
  await deps.db.transaction(async (tx) => {
    const [changed] = await tx
      .update(ssoProviders)
      .set({ enabled, updatedBy: principal.userId, updatedAt: sql`now()` })
      .where(and(eq(ssoProviders.partnerId, principal.partnerId), eq(ssoProviders.enabled, !enabled)))
      .returning({ id: ssoProviders.id });
    // Zero rows: none configured, or already in that state — nothing to record.
    if (!changed) return;
    await recordAudit(tx, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: enabled ? 'sso.enable' : 'sso.disable',
      targetType: 'sso_provider',
      targetId: changed.id,
      outcome: 'succeeded',
      requestId,
    });
  });
}

/**
 * Looks for the partner's TXT record proving its staff domain (owners only) and, when it
 * is there, marks the domain proven: from then on single sign-on starts for addresses at
 * it. Refused (422) when the record is not found or the lookup fails; 409 when another
 * partner proved the domain first (it could: it holds the DNS too). Audited either way.
 */
export async function verifySsoDomain(
  deps: Pick<Deps, 'db' | 'config'>,
  principal: PartnerPrincipal,
  requestId?: string,
): Promise<void> {
  assertOwner(principal);
  const [row] = await deps.db
    .select({ id: ssoProviders.id, emailDomain: ssoProviders.emailDomain })
    .from(ssoProviders)
    .where(eq(ssoProviders.partnerId, principal.partnerId));
  if (!row) throw new AppError('NOT_FOUND', 'Set up single sign-on first.');
  const name = ssoDomainRecordName(row.emailDomain);
  const expected = domainRecordValue(deps.config.linkSecret, row.id, row.emailDomain);
  const lookup = await createTxtLookup(deps.config.dnsServers)(name);
  const found = lookup.ok && lookup.records.some((parts) => parts.join('') === expected);
  const audit = (outcome: 'succeeded' | 'rejected', detail: Record<string, unknown>) =>
    recordAudit(deps.db, {
      actorUserId: principal.userId,
      partnerId: principal.partnerId,
      orgId: principal.partnerId,
      action: 'sso.verify_domain',
      targetType: 'sso_provider',
      targetId: row.id,
      outcome,
      requestId,
      detail: { emailDomain: row.emailDomain, ...detail },
    });
  if (!found) {
    await audit('rejected', { reason: lookup.ok ? 'record_not_found' : 'lookup_failed' });
    throw new AppError(
      'VALIDATION_FAILED',
      lookup.ok
        ? `The TXT record was not found at ${name}. Publish it as shown (DNS can take a few minutes), then check again.`
        : `The DNS lookup of ${name} failed; try again in a moment.`,
      { issues: [{ path: 'emailDomain', message: 'not proven yet' }] },
    );
  }
  try {
    await deps.db
      .update(ssoProviders)
      .set({ domainVerifiedAt: sql`now()` })
      .where(and(eq(ssoProviders.id, row.id), eq(ssoProviders.emailDomain, row.emailDomain)));
  } catch (error) {
    if (!isUniqueViolation(error, 'sso_providers_domain_unique')) throw error;
    await audit('rejected', { reason: 'proven_by_another_partner' });
    throw new AppError('CONFLICT', `Another partner has proven ${row.emailDomain} for its single sign-on.`);
  }
  await audit('succeeded', {});
}
