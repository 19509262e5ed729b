import { and, asc, eq, sql } from 'drizzle-orm';
import { isSameOrSubdomain } from '../../core/domain-names.ts';
import { AppError } from '../../core/errors.ts';
import { normalizeEmail } from '../../core/recipients.ts';
import type { DbOrTx } from '../../db/client.ts';
import { domains, users } from '../../db/schema/index.ts';

/**
 * The domain every client organization has from the start, before it verifies its own:
 * `c<last 12 hex digits of its id>.<INITIAL_DOMAIN_SUFFIX>` (those digits are random).
 */
export function initialDomain(orgId: string, suffix: string): string {
  return `c${orgId.slice(-12)}.${suffix}`;
}

async function verifiedDomains(db: DbOrTx, orgId: string): Promise<string[]> {
  const rows = await db
    .select({ name: domains.name })
    .from(domains)
    .where(and(eq(domains.orgId, orgId), eq(domains.state, 'verified')))
    .orderBy(asc(domains.verifiedAt));
  return rows.map((r) => r.name);
}

/** Whether the organization may use addresses at `domain`: its initial domain, or one a verified domain covers. */
export async function orgOwnsDomain(db: DbOrTx, orgId: string, domain: string, suffix: string): Promise<boolean> {
  if (domain === initialDomain(orgId, suffix)) return true;
  return (await verifiedDomains(db, orgId)).some((root) => isSameOrSubdomain(domain, root));
}

const localPart = /^(?![.])(?!.*\.\.)[A-Za-z0-9._%+-]{1,64}(?<![.])$/;

/**
 * The address of a user to provision from `userName`: a local part (on the first
 * verified domain, else the initial domain), or a full address on a domain the
 * organization owns. Refuses an address already in use.
 */
export async function newUserAddress(db: DbOrTx, orgId: string, userName: string, suffix: string): Promise<string> {
  const invalid = (message: string) =>
    new AppError('VALIDATION_FAILED', message, { issues: [{ path: 'userName', message }] });
  let email: string;
  if (userName.includes('@')) {
    const normalized = normalizeEmail(userName);
    if ('reason' in normalized) throw invalid(normalized.reason);
    email = normalized.email;
    const domain = email.slice(email.lastIndexOf('@') + 1);
    if (!(await orgOwnsDomain(db, orgId, domain, suffix))) {
      throw invalid(`${domain} is not a verified domain of this organization`);
    }
  } else {
    if (!localPart.test(userName)) throw invalid('must be a local part (letters, digits, . _ % + -) or a full address');
    const [primary] = await verifiedDomains(db, orgId);
    email = `${userName}@${primary ?? initialDomain(orgId, suffix)}`;
  }
  const [taken] = await db.select({ id: users.id }).from(users).where(sql`lower(${users.email}) = lower(${email})`);
  if (taken)
    throw new AppError('CONFLICT', `${email} is already in use`, {
      issues: [{ path: 'userName', message: 'already in use' }],
    });
  return email;
}
