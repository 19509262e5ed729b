import { sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import { requireId } from '../../core/ids.ts';
import { seesAllOperations, seesClientOrganizations } from '../../core/partner-permissions.ts';
import { decide, rolesAllowing } from '../../core/permissions.ts';
import type { Db } from '../../db/client.ts';
import { type DelegationView, listDelegations } from '../delegations/delegations.ts';
import { assertSeesPartnerData } from '../shared/partner-data.ts';
import type { PartnerPrincipal } from '../shared/principals.ts';

export interface ClientOrganization {
  id: string;
  name: string;
  /** The partner's delegations with it, newest first. */
  delegations: DelegationView[];
  /** The one the partner works through now: active, else the newest. */
  current: DelegationView | null;
}

/**
 * A client organization as its partner sees it: its name and the partner's delegations
 * with it. NOT_FOUND for an organization the partner has never had a delegation with (the
 * same answer as for none at all).
 */
export async function clientOrganization(
  db: Db,
  principal: PartnerPrincipal,
  orgId: string,
): Promise<ClientOrganization> {
  assertSeesPartnerData(principal);
  requireId('organization', orgId, 'client organization');
  const [org] = await db.execute<{ name: string }>(sql`
    select g.name from organizations g
    where g.id = ${orgId} and g.kind = 'client'
      and exists (select 1 from delegations d where d.client_org_id = g.id and d.partner_id = ${principal.partnerId})`);
  if (!org) throw new AppError('NOT_FOUND', 'No such client organization');
  const { items } = await listDelegations(db, principal, { clientOrgId: orgId, limit: 50 });
  return {
    id: orgId,
    name: org.name,
    delegations: items,
    current: items.find((d) => d.state === 'active') ?? items[0] ?? null,
  };
}

export interface SearchHit {
  kind: 'client' | 'recipient' | 'operation';
  /** Where the hit is shown. */
  href: string;
  title: string;
  detail: string;
  state: string;
}

/** `%text%` for LIKE, with the user's own % and _ taken literally. */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

/**
 * Finds what an operator would type: a client's email, company or organization name, or a
 * domain — across the partner's delegations (clients and campaign recipients) and the
 * operations the principal may see (a user's address or a domain they were about). Case
 * does not matter; at most `limit` of each kind.
 */
export async function searchPartnerData(
  db: Db,
  principal: PartnerPrincipal,
  text: string,
  limit = 25,
): Promise<SearchHit[]> {
  assertSeesPartnerData(principal);
  const pattern = containing(text.trim().toLowerCase());
  // A client's domains are found only by those who may list them now: through an active
  // delegation that grants it, by staff whose own access allows it.
  const mayListDomains = decide('list_domains', {
    delegation: { state: 'active', roles: ['global_admin'] },
    staffRoles: principal.roles,
  }).allowed;
  const delegations = await db.execute<{
    id: string;
    state: string;
    client_org_id: string | null;
    org_name: string | null;
    recipient_email: string | null;
    recipient_company: string | null;
    campaign_name: string | null;
  }>(sql`
    select d.id, d.state, d.client_org_id, g.name as org_name, d.recipient_email, d.recipient_company,
           c.name as campaign_name
    from delegations d
    left join organizations g on g.id = d.client_org_id
    left join campaigns c on c.id = d.campaign_id
    where d.partner_id = ${principal.partnerId}
      and (lower(d.recipient_email) like ${pattern} or lower(d.recipient_company) like ${pattern}
           or lower(g.name) like ${pattern}
           or (${mayListDomains} and d.state = 'active' and coalesce(d.ends_at > now(), true)
               and d.roles && ${sql.param(rolesAllowing('list_domains'))}::text[]
               and exists (select 1 from domains m where m.org_id = d.client_org_id and m.name like ${pattern})))
    order by d.id desc
    limit ${limit}`);
  const hits: SearchHit[] = delegations.map((d) => {
    const who = [d.recipient_company, d.recipient_email].filter(Boolean).join(' · ');
    return d.client_org_id
      ? {
          kind: 'client',
          href: `/dashboard/clients/${d.client_org_id}`,
          title: d.org_name ?? who,
          detail: who,
          state: d.state,
        }
      : {
          kind: 'recipient',
          href: `/dashboard/delegations/${d.id}`,
          title: who || d.id,
          detail: d.campaign_name ? `campaign ${d.campaign_name}` : 'reusable link',
          state: d.state,
        };
  });
  if (seesClientOrganizations(principal)) {
    const operations = await db.execute<{
      id: string;
      state: string;
      kind: string;
      about: string | null;
      org: string | null;
    }>(sql`
      select o.id, o.state, o.kind, coalesce(o.input->>'email', o.input->>'name', u.email) as about, g.name as org
      from operations o
      -- A user's address as it is now, only while the delegation it was reset through is active.
      left join users u on u.id = o.input->>'userId' and u.org_id = o.client_org_id
        and exists (select 1 from delegations d where d.id = o.delegation_id and d.state = 'active')
      left join organizations g on g.id = o.client_org_id
      where o.partner_id = ${principal.partnerId}
        ${seesAllOperations(principal) ? sql`` : sql`and o.requested_by = ${principal.userId}`}
        and (lower(o.input->>'email') like ${pattern} or lower(o.input->>'name') like ${pattern}
             or lower(u.email) like ${pattern})
      order by o.id desc
      limit ${limit}`);
    for (const o of operations) {
      hits.push({
        kind: 'operation',
        href: `/dashboard/operations/${o.id}`,
        title: o.about ?? o.id,
        detail: `${o.kind.replace('_', ' ')}${o.org ? ` in ${o.org}` : ''}`,
        state: o.state,
      });
    }
  }
  // A client with several delegations is one hit: its page lists them.
  return [...new Map(hits.map((h) => [h.href, h])).values()];
}
