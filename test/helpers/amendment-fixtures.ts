import { activateDelegation, createOfferFixture } from './offer-fixtures.ts';
import type { ReceivedMail } from './smtp-sink.ts';
import type { TestStack } from './stack.ts';

/**
 * An active delegation granting `roles` (required roles of its offer), for 365 days unless
 * told otherwise, with its partner, offer and client admin.
 */
export async function createActiveDelegation(
  stack: TestStack,
  roles: string[],
  offer: { durationDays?: number; autoExtend?: boolean } = {},
) {
  const fixture = await createOfferFixture(stack, {
    offer: { access: undefined, roles: roles.map((role) => ({ role })), durationDays: 365, ...offer },
  });
  const { admin, delegationId } = await activateDelegation(stack, fixture);
  return { fixture, admin, delegationId, owner: fixture.partner.token };
}

/** POST /v1/delegations/{id}/amendments; returns the response and its JSON body. */
export async function postAmendment(stack: TestStack, token: string, delegationId: string, body: unknown) {
  const response = await stack.request(`/v1/delegations/${delegationId}/amendments`, {
    method: 'POST',
    token,
    json: body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> & { id: string } };
}

/** The personal amendment link path (`/amendments/<token>`) in a received email, if any. */
export function amendmentLinkIn(mail: ReceivedMail): string | undefined {
  return /\/amendments\/[A-Za-z0-9_-]{43}/.exec(mail.text)?.[0];
}

/** The signed end link path (`/end/<delegation>/<key>`) in a received email, if any. */
export function endLinkIn(mail: ReceivedMail): string | undefined {
  return /\/end\/dlg_[0-9a-f]{32}\/[A-Za-z0-9_-]{43}/.exec(mail.text)?.[0];
}

/** The terms of a delegation as its row holds them. */
export async function delegationTerms(stack: TestStack, delegationId: string) {
  const [row] = await stack.deps.sql`
    select id, state, roles, ends_at, auto_extend from delegations where id = ${delegationId}`;
  const terms = row as { id: string; state: string; roles: string[]; ends_at: string; auto_extend: boolean };
  return { ...terms, ends_at: new Date(terms.ends_at) };
}
