import { sql } from 'drizzle-orm';
import { AppError } from '../../core/errors.ts';
import type { Tx } from '../../db/client.ts';
import { campaigns } from '../../db/schema/index.ts';
import type { Config } from '../../lib/config.ts';

/** The window PARTNER_DAILY_SEND_LIMIT counts over: rolling, so no midnight lets a second day's worth through at once. */
const WINDOW = sql`interval '24 hours'`;

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Orders the campaign creations of one partner until the end of the transaction: what one
 * reads of the partner's campaigns (the day's count, the names taken) the next sees with
 * its own. A transaction-scoped advisory lock, not a row lock on the partner: it blocks only
 * other campaign creations of this partner, never the writes that reference the partner's
 * row. Taking it twice in one transaction is harmless.
 */
export async function lockCampaignCreation(tx: Tx, partnerId: string): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`campaign-quota.${partnerId}`}, 0))`);
}

/**
 * Refuses, with DAILY_SEND_LIMIT_EXCEEDED, a campaign of `requested` recipients that would
 * take the partner's campaign recipients of the last 24 hours over PARTNER_DAILY_SEND_LIMIT
 * (unset: no limit). Call it inside the transaction that inserts the campaign: it takes a
 * per-partner lock held until that transaction ends, so two concurrent creations are
 * counted one after the other and cannot both pass on the same remainder.
 */
export async function assertWithinDailySendLimit(
  tx: Tx,
  config: Pick<Config, 'partnerDailySendLimit'>,
  partnerId: string,
  requested: number,
): Promise<void> {
  const limit = config.partnerDailySendLimit;
  if (limit === undefined) return;
  await lockCampaignCreation(tx, partnerId);
  // Read after the lock (read committed: a new snapshot per statement), so a campaign
  // committed by the creation this one waited for is counted. Served by campaigns_partner_idx:
  // a partner's campaigns are few.
  const [row] = await tx.execute<{ used: number }>(sql`
    select coalesce(sum(${campaigns.total}), 0)::int as used from ${campaigns}
    where ${campaigns.partnerId} = ${partnerId} and ${campaigns.createdAt} > now() - ${WINDOW}`);
  const used = row?.used ?? 0;
  if (used + requested <= limit) return;

  const remaining = Math.max(0, limit - used);
  const details = { limit, used, requested, remaining };
  if (requested > limit) {
    throw new AppError(
      'DAILY_SEND_LIMIT_EXCEEDED',
      `This campaign has ${count(requested)} recipients, more than the ${count(limit)} the partner may send to in a day (the last 24 hours): split it over several days.`,
      { details },
    );
  }
  // When enough of the window's recipients have left it for this campaign to fit.
  const [wait] = await tx.execute<{ seconds: number }>(sql`
    select ceil(extract(epoch from created_at + ${WINDOW} - now()))::int as seconds from (
      select ${campaigns.createdAt} as created_at,
             sum(${campaigns.total}) over (order by ${campaigns.createdAt}, ${campaigns.id}) as left_window
      from ${campaigns}
      where ${campaigns.partnerId} = ${partnerId} and ${campaigns.createdAt} > now() - ${WINDOW}) w
    where left_window >= ${used + requested - limit}
    order by created_at limit 1`);
  throw new AppError(
    'DAILY_SEND_LIMIT_EXCEEDED',
    `This campaign has ${count(requested)} recipients, but only ${count(remaining)} more may be sent today: the partner has sent to ${count(used)} of its ${count(limit)} recipients a day (the last 24 hours) already.`,
    { details: { ...details, ...(wait ? { retryAfterSeconds: Math.max(1, wait.seconds) } : {}) } },
  );
}
