import type { Context } from 'hono';
import { z } from 'zod';
import { delegationStates } from '../../../core/delegation-machine.ts';
import { AppError } from '../../../core/errors.ts';
import { operationStates } from '../../../db/schema/index.ts';
import { delegationSorts } from '../../../services/delegations/delegations.ts';
import type { AppEnv } from '../../env.ts';
import { fieldIssues } from '../../problem.ts';

/** Rows on one page of a list. */
export const PAGE = 100;

/** Query parameters of the list pages; anything else in them is a 422 page, not a guess. */
export const Filters = z.object({
  state: z.enum(delegationStates).optional(),
  campaignId: z.string().max(100).optional(),
  expiringWithinDays: z.coerce.number().int().min(0).max(3650).optional(),
  sort: z.enum(delegationSorts).optional(),
  cursor: z.string().max(200).optional(),
});
/** The operations list's query parameters. */
export const OperationFilters = z.object({
  state: z.enum(operationStates).optional(),
  cursor: z.string().max(200).optional(),
});

/** The page's query string through `schema`; a mismatch is a 422 page with the fields at fault. */
export function query<T extends z.ZodType>(c: Context<AppEnv>, schema: T): z.output<T> {
  // Empty fields of a GET form mean "any".
  const raw = Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw new AppError('VALIDATION_FAILED', 'The filters are not valid', { issues: fieldIssues(parsed.error) });
  }
  return parsed.data;
}

/** Fixed sentences for the notice after a form, chosen by a code in the redirect. */
export function notice(c: Context<AppEnv>): string | undefined {
  const n = Number(c.req.query('n') ?? 0);
  switch (c.req.query('notice')) {
    case 'retried': {
      const skipped = Number(c.req.query('skipped') ?? 0);
      const left =
        skipped > 0
          ? ` ${skipped} ${skipped === 1 ? 'recipient a mail server refused for good was' : 'recipients mail servers refused for good were'} left alone (tick “Also retry the permanent refusals” to send them too).`
          : '';
      if (n === 0)
        return skipped > 0 ? `Nothing was retried.${left}` : 'Nothing to retry: no recipient is failed any more.';
      return `${n} ${n === 1 ? 'recipient' : 'recipients'} will be sent the offer again.${left}`;
    }
    case 'operation-queued':
      return 'Queued. Its result shows under Operations as soon as it is done.';
    case 'already-submitted':
      return 'That form had been sent already: nothing was done twice.';
    case 'amendment-applied':
      return 'Changed: what you gave up applies at once, and the client was told.';
    case 'amendment-pending':
      return "Asked: the client's global admins were emailed a link to accept or decline. Anything given up applies at once.";
    case 'delegation-ended':
      return 'Delegation ended: your staff have no access to this client any more.';
    case 'reminded': {
      const days = Number(c.req.query('days') ?? 0);
      if (n === 0)
        return `Nobody to remind: no recipient has waited ${days} days or more since their last email without answering.`;
      return `Reminder ${Number(c.req.query('r') ?? 0)} is on its way to ${n} ${n === 1 ? 'recipient' : 'recipients'} still offered after ${days} days, each once, with the link of their offer email.`;
    }
    case 'campaign-sent':
      return `Campaign started: ${n} ${n === 1 ? 'recipient' : 'recipients'} will be sent the offer. Its progress shows here as it goes.`;
    case 'campaign-already-sent':
      return 'This list was already sent: here is its campaign.';
    case 'offer-created':
      return 'Offer created. Send its link to your clients, or send the offer to a list of recipients.';
    case 'offer-revoked':
      return `Offer withdrawn: its link no longer works${n > 0 ? `, and ${n} ${n === 1 ? 'recipient' : 'recipients'} still waiting for an answer ${n === 1 ? 'was' : 'were'} withdrawn` : ''}.`;
    case 'operation-retried':
      return 'The operation is queued again.';
    case 'access-saved':
      return 'Access saved. It applies at once, also to operations already queued.';
    case 'policy-saved':
      return 'Saved. It applies from each person’s next page.';
    case 'staff-removed':
      return 'Staff member removed: their sessions and API tokens ended, and they can no longer sign in. Their operations still queued will be rejected.';
    case 'invitation-revoked':
      return 'Invitation withdrawn: its link no longer works.';
    case 'token-revoked':
      return 'Token revoked: it no longer opens the API.';
    case 'sso-saved':
      return 'Single sign-on saved: the issuer answered its discovery document.';
    case 'sso-domain-proven':
      return 'Domain proven: single sign-on starts for its addresses.';
    case 'sso-on':
      return 'Single sign-on is on.';
    case 'sso-off':
      return 'Single sign-on is off: staff sign in with their passwords; sign-ins under way are refused.';
    default:
      return undefined;
  }
}

/** `path` with the notice code (and its parameters) added to its query string. */
export const withNotice = (path: string, params: Record<string, string>) =>
  `${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams(params)}`;
