import { lte, sql } from 'drizzle-orm';
import { ANSWER_TIMEOUT_DAYS, AUTO_EXTEND_DAYS } from '../../core/offer-rules.ts';
import { delegations, expiryNotices } from '../../db/schema/index.ts';
import type { Deps } from '../../lib/deps.ts';
import { completeCampaigns } from '../campaigns/completion.ts';
import { sweepAmendments } from '../delegations/amendment-sweep.ts';
import { applyTransitionToMany, systemActor } from '../delegations/transitions.ts';
import { notifyContext, notifyExpired, notifyExpiry } from '../mail/notifications.ts';
import { enqueueEmails } from '../mail/outbox.ts';
import { recordDelegationNotice } from '../webhooks/record.ts';
import { sendWeeklyDigests } from './weekly-digest.ts';

/**
 * Expiry notices: each is due while the time left is at most `days` and more than
 * `until` (the next threshold), so a late run sends only the notice that still applies.
 */
export const noticeThresholds = [
  { days: 30, until: 7 },
  { days: 7, until: 1 },
  { days: 1, until: 0 },
] as const;

export interface LifecycleResult {
  extended: number;
  expired: number;
  timedOut: number;
  notices: number;
  /** Pending amendments that expired unanswered, and those whose delegation had ended. */
  amendmentsExpired: number;
  amendmentsCancelled: number;
  /** Weekly digest emails recorded (services/maintenance/weekly-digest.ts). */
  digests: number;
  /** Campaigns found complete (services/campaigns/completion.ts). */
  campaignsCompleted: number;
}

/**
 * One pass of the lifecycle, judged by the database clock: auto-extends or expires
 * active delegations whose end has passed, expires offers unanswered for 90 days, writes
 * the due expiry notices, expires or cancels pending amendments, and records the weekly
 * digests once a week is over. Every step is a
 * guarded set-based update or an insert keyed on (delegation, threshold, end), so running
 * it twice, or in two workers at once, changes nothing more.
 */
export async function runLifecycle(deps: Pick<Deps, 'db' | 'queues' | 'logger' | 'config'>): Promise<LifecycleResult> {
  const ctx = notifyContext(deps.config);

  const extended = await applyTransitionToMany(deps.db, {
    where: sql`${delegations.endsAt} <= now() and ${delegations.autoExtend}`,
    from: ['active'],
    event: 'auto_extend',
    actor: systemActor,
    set: { endsAt: sql`${delegations.endsAt} + make_interval(days => ${AUTO_EXTEND_DAYS})` },
    detail: { days: AUTO_EXTEND_DAYS },
  });

  const expiredEmails = await deps.db.transaction(async (tx) => {
    const ids = await applyTransitionToMany(tx, {
      where: sql`${delegations.endsAt} <= now() and not ${delegations.autoExtend}`,
      from: ['active'],
      event: 'end_reached',
      actor: systemActor,
      set: { endedAt: sql`now()` },
    });
    const emailIds: string[] = [];
    for (const id of ids) emailIds.push(...(await notifyExpired(tx, ctx, id)));
    return { count: ids.length, emailIds };
  });
  await enqueueEmails(deps, expiredEmails.emailIds, { background: true });

  const timedOut = await applyTransitionToMany(deps.db, {
    where: lte(delegations.offeredAt, sql`now() - make_interval(days => ${ANSWER_TIMEOUT_DAYS})`),
    from: ['offered'],
    event: 'answer_timeout',
    actor: systemActor,
    set: { endedAt: sql`now()` },
    detail: { days: ANSWER_TIMEOUT_DAYS },
  });

  let notices = 0;
  for (const { days, until } of noticeThresholds) {
    const dueNotices = await deps.db.execute<{ id: string }>(sql`
      select d.id from ${delegations} d
      where d.state = 'active'
        and d.ends_at > now() + make_interval(days => ${until})
        and d.ends_at <= now() + make_interval(days => ${days})
        and not exists (select 1 from ${expiryNotices} n
                        where n.delegation_id = d.id and n.threshold_days = ${days} and n.ends_at = d.ends_at)`);
    for (const { id } of dueNotices) {
      const emailIds = await deps.db.transaction(async (tx) => {
        // The notice row is the claim, taken only while the notice is still due for the
        // end date as it is now (an extension may have moved it since the list above);
        // a second run, or another worker, inserts nothing.
        const [claimed] = await tx.execute<{ days_left: number; ends_at: string }>(sql`
          insert into ${expiryNotices} (delegation_id, threshold_days, ends_at)
          select id, ${days}, ends_at from ${delegations}
          where id = ${id} and state = 'active'
            and ends_at > now() + make_interval(days => ${until})
            and ends_at <= now() + make_interval(days => ${days})
          on conflict do nothing
          returning ceil(extract(epoch from ends_at - now()) / 86400)::int as days_left, ends_at::text`);
        if (!claimed) return [];
        await recordDelegationNotice(tx, id, 'delegation.expiring', `expiry_notice:${id}:${days}:${claimed.ends_at}`, {
          thresholdDays: days,
          daysLeft: claimed.days_left,
        });
        return notifyExpiry(tx, ctx, id, days, claimed.days_left);
      });
      if (emailIds.length > 0) notices++;
      await enqueueEmails(deps, emailIds, { background: true });
    }
  }

  // Campaigns whose last recipient left `invited` without a chunk's check seeing it.
  const completed = await completeCampaigns(deps.db);

  // Last: by now every delegation past its end has been expired or extended.
  const amendments = await sweepAmendments(deps);
  // Once a week is over, its digests, and those of any week missed (a clock jump, no pass
  // for a week); on every other pass, one lookup of the latest week taken.
  const digests = await sendWeeklyDigests(deps);

  return {
    extended: extended.length,
    expired: expiredEmails.count,
    timedOut: timedOut.length,
    notices,
    amendmentsExpired: amendments.expired,
    amendmentsCancelled: amendments.cancelled,
    digests,
    campaignsCompleted: completed.length,
  };
}
