import { randomBytes } from 'node:crypto';
import { createClientOrganization } from '../../services/accounts/client-accounts.ts';
import type { Viewer } from '../../services/accounts/sessions.ts';
import { acceptOffer, processAcceptance } from '../../services/offers/acceptance.ts';
import { offerPersonalLink } from './browser-client.ts';
import { createTestOffer, createTestPartner } from './factories.ts';
import type { TestStack } from './stack.ts';

export interface OfferFixture {
  partner: { partnerId: string; userId: string; email: string; password: string; token: string };
  offer: { id: string; url: string };
  /** Token of the offer's reusable link. */
  reusableToken: string;
  /** Personal links, one per recipient: email → { delegationId, token }. */
  links: Map<string, { delegationId: string; token: string }>;
}

/** A partner, an offer, and a campaign whose emails count as sent (links resolvable). */
export async function createOfferFixture(
  stack: TestStack,
  options: { partnerName?: string; offer?: Record<string, unknown>; recipients?: string[] } = {},
): Promise<OfferFixture> {
  const partner = await createTestPartner(stack, options.partnerName);
  const offer = await createTestOffer(stack, partner.token, options.offer);
  const recipients = options.recipients ?? ['admin@client.example'];
  const response = await stack.request('/v1/campaigns', {
    method: 'POST',
    token: partner.token,
    json: { offerId: offer.id, recipients: recipients.map((email) => ({ email })) },
  });
  const { id } = (await response.json()) as { id: string };
  const rows = await stack.deps.sql`select id, recipient_email from delegations where campaign_id = ${id}`;
  const links = new Map<string, { delegationId: string; token: string }>();
  for (const row of rows) {
    const delegationId = row.id as string;
    links.set(row.recipient_email as string, { delegationId, token: await offerPersonalLink(stack, delegationId) });
  }
  return { partner, offer, reusableToken: offer.url.split('/').pop() as string, links };
}

/** A client organization with a global admin, created directly; returns its viewer. */
export async function createClientAdmin(stack: TestStack, orgName = 'Client Org'): Promise<Viewer> {
  const email = `admin-${randomBytes(4).toString('hex')}@client.example`;
  const { userId, orgId } = await createClientOrganization(stack.deps.db, {
    orgName,
    adminName: 'Admin',
    email,
    password: 'correct horse battery staple',
  });
  return {
    userId,
    email,
    displayName: 'Admin',
    orgId,
    orgKind: 'client',
    orgName,
    isGlobalAdmin: true,
    mustChangePassword: false,
    mustEnrolSecondFactor: false,
    secondFactorFresh: false,
    recentlySignedIn: false,
  };
}

/**
 * Accepts a personal link as a new client organization (named `orgName`, 'Client Org' by
 * default) and processes the acceptance.
 */
export async function activateDelegation(
  stack: TestStack,
  fixture: OfferFixture,
  recipient = 'admin@client.example',
  orgName?: string,
) {
  const link = fixture.links.get(recipient);
  if (!link) throw new Error(`no link for ${recipient}`);
  const admin = await createClientAdmin(stack, orgName);
  await acceptOffer(stack.deps, link.token, admin);
  const outcome = await processAcceptance(stack.deps, link.delegationId);
  return { admin, delegationId: link.delegationId, outcome };
}
