import { type SQL, type SQLWrapper, sql } from 'drizzle-orm';
import { isSameOrSubdomain } from '../../core/domain-names.ts';
import { AppError } from '../../core/errors.ts';
import { normalizeEmail } from '../../core/recipients.ts';
import { domains } from '../../db/schema/index.ts';

/**
 * The domain every client organization has from the start, before it verifies its own:
 * `c<last 12 hex digits of its id>.<INITIAL_DOMAIN_SUFFIX>` (those digits are random).
 */
export function initialDomain(orgId: string, suffix: string): string {
  return `c${orgId.slice(-12)}.${suffix}`;
}

/**
 * The names of an organization's verified domains, oldest first (the first is where local
 * parts go), as an SQL array expression: callers read it with the row they already fetch.
 */
export function verifiedDomainNames(orgId: SQLWrapper): SQL<string[]> {
  return sql<string[]>`array(
    select ${domains.name} from ${domains}
    where ${domains.orgId} = ${orgId} and ${domains.state} = 'verified' order by ${domains.verifiedAt})`;
}

const localPart = /^(?![.])(?!.*\.\.)[A-Za-z0-9._%+-]{1,64}(?<![.])$/;

/**
 * The address of a user to provision from `userName`: a local part (on the first
 * verified domain, else the initial domain), or a full address on a domain the
 * organization owns (its initial domain, or one a verified domain covers). Whether the
 * address is free is checked where the operation is recorded (requests.ts).
 */
export function newUserAddress(
  orgId: string,
  userName: string,
  suffix: string,
  verifiedDomains: readonly string[],
): string {
  const invalid = (message: string) =>
    new AppError('VALIDATION_FAILED', message, { issues: [{ path: 'userName', message }] });
  if (!userName.includes('@')) {
    if (!localPart.test(userName)) throw invalid('must be a local part (letters, digits, . _ % + -) or a full address');
    return `${userName}@${verifiedDomains[0] ?? initialDomain(orgId, suffix)}`;
  }
  const normalized = normalizeEmail(userName);
  if ('reason' in normalized) throw invalid(normalized.reason);
  const domain = normalized.email.slice(normalized.email.lastIndexOf('@') + 1);
  const owned =
    domain === initialDomain(orgId, suffix) || verifiedDomains.some((root) => isSameOrSubdomain(domain, root));
  if (!owned) throw invalid(`${domain} is not a verified domain of this organization`);
  return normalized.email;
}
