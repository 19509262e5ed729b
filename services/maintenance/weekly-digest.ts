import { max, sql } from 'drizzle-orm';
import { auditActionLabel } from '../../core/audit-actions.ts';
import { type DigestPartner, weeklyDigestNotice } from '../../core/emails/notifications.ts';
import { dueDigestWeeks, weekEnd, weekName } from '../../core/weekly-digest.ts';
import { auditEvents, digestWeeks, organizations } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { clientAdmins, notifyContext } from '../mail/notifications.ts';
import { enqueueEmails, type NewEmail, recordEmails } from '../mail/outbox.ts';

type ActionRow = {
  org_id: string;
  org_name: string;
  partner_id: string;
  partner_name: string;
  action: string;
  done: number;
  refused: number;
};

/**
 * The weekly digest: once a whole week (core/weekly-digest.ts) is over, each client
 * organization that keeps the digest on and saw partner actions that week gets one email
 * per global admin listing them — counts per partner and action, refusals apart. Each week
 * is taken in `digest_weeks` in the same transaction as its emails, so one pass composes
 * it (two workers at once, or a pass retried, record nothing more), and every later pass
 * stops at that row. A pass composes every week over since the latest taken (up to
 * DIGEST_CATCH_UP_WEEKS), so a week is not skipped when the clock jumps forward or no pass
 * ran for a week. Judged by the database clock, as the rest of the lifecycle pass (and the
 * audit rows it counts); `now` replaces it in tests. Returns how many emails it recorded.
 */
export async function sendWeeklyDigests(
  deps: Pick<Deps, 'db' | 'config' | 'queues' | 'logger'>,
  now?: Date,
): Promise<number> {
  const at = now ?? (await databaseNow(deps.db));
  const [latest] = await deps.db.select({ week: max(digestWeeks.weekStart) }).from(digestWeeks);
  let recorded = 0;
  for (const start of dueDigestWeeks(at, latest?.week ?? null)) recorded += await composeWeek(deps, start);
  return recorded;
}

async function databaseNow(db: Deps['db']): Promise<Date> {
  const [row] = await db.execute<{ ms: number }>(sql`select (extract(epoch from now()) * 1000)::float8 as ms`);
  if (!row) throw new Error('select now() returned no row');
  return new Date(row.ms);
}

/** One week's digests, taken and recorded in one transaction; how many emails. */
async function composeWeek(deps: Pick<Deps, 'db' | 'config' | 'queues' | 'logger'>, start: Date): Promise<number> {
  const week = weekName(start);
  const ctx = notifyContext(deps.config);
  const emailIds = await deps.db.transaction(async (tx) => {
    const [taken] = await tx
      .insert(digestWeeks)
      .values({ weekStart: week })
      .onConflictDoNothing()
      .returning({ week: digestWeeks.weekStart });
    if (!taken) return [];
    const rows = await tx.execute<ActionRow>(sql`
      select a.org_id, o.name as org_name, a.partner_id, p.name as partner_name, a.action,
             count(*) filter (where a.outcome <> 'rejected')::int as done,
             count(*) filter (where a.outcome = 'rejected')::int as refused
      from ${auditEvents} a
      join ${organizations} o on o.id = a.org_id and o.kind = 'client' and o.weekly_digest
      join ${organizations} p on p.id = a.partner_id
      where a.created_at >= ${start.toISOString()} and a.created_at < ${weekEnd(start).toISOString()}
        and a.outcome <> 'pending'
      group by a.org_id, o.name, a.partner_id, p.name, a.action
      order by a.org_id, p.name, a.partner_id, a.action`);
    const byOrg = new Map<string, { name: string; partners: Map<string, DigestPartner> }>();
    for (const r of rows) {
      const org = byOrg.get(r.org_id) ?? { name: r.org_name, partners: new Map() };
      byOrg.set(r.org_id, org);
      // By id: two partners may bear one name, and neither may pass for the other.
      const partner = org.partners.get(r.partner_id) ?? { name: r.partner_name, actions: [] };
      org.partners.set(r.partner_id, partner);
      partner.actions.push({ label: auditActionLabel(r.action), count: r.done + r.refused, refused: r.refused });
    }
    const list: NewEmail[] = [];
    for (const [orgId, org] of byOrg) {
      const content = weeklyDigestNotice({
        orgName: org.name,
        week,
        partners: [...org.partners.values()],
        pageUrl: `${ctx.publicUrl}/org/delegations`,
        settingsUrl: `${ctx.publicUrl}/org/security`,
      });
      for (const admin of await clientAdmins(tx, orgId)) {
        list.push({
          dedupeKey: `digest.${orgId}.${week}.${admin.userId}`,
          kind: 'weekly-digest',
          toEmail: admin.email,
          content,
        });
      }
    }
    return recordEmails(tx, ctx.messageIdDomain, list);
  });
  await enqueueEmails(deps, emailIds, { background: true });
  return emailIds.length;
}
